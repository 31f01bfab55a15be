"""Seed data for the benchmarks, written straight to the bench database (bulk, fast)."""

from __future__ import annotations

from dataclasses import dataclass

BENCH_ORG = "Bench Staffing"


@dataclass
class Org:
    org_id: int
    numbers: list[tuple[int, str]]  # (PhoneNumber id, e164), one per seat
    users: list[int]  # user ids; user k sits on numbers[k // 3]
    phones: list[str]  # candidates' mobiles; candidate k talks to numbers[k % len(numbers)]
    candidates: list[int]
    conversations: list[int]  # conversation of candidate k on its number


def phone(i: int) -> str:
    """A distinct, valid North American mobile for person `i` (up to 8 million)."""
    return f"+1{212 + i // 5_000_000}{5_000_000 + i % 5_000_000:07d}"


def seed_org(
    *,
    seats: int,
    people: int,
    allowance: int = 1_000_000,
    overage: str = "refuse",
    conversations: bool = True,
    label: str = "",
) -> Org:
    """An organisation with `seats` numbers (3 recruiters each) and `people` texting candidates."""
    from django.contrib.auth.models import Group
    from django.db import transaction
    from django.utils import timezone

    from hiretext.accounts.models import Organization, Role, User
    from hiretext.accounts.services import ensure_roles
    from hiretext.ats.models import Candidate
    from hiretext.messaging.models import Conversation
    from hiretext.numbers.models import PhoneNumber, Seat, SeatAssignment

    now = timezone.now()
    ensure_roles()
    with transaction.atomic():
        org = Organization.objects.create(
            name=f"{BENCH_ORG} {label}".strip(), time_zone="America/Chicago", overage_policy=overage
        )
        numbers, users = [], []
        recruiters = Group.objects.get(name=Role.RECRUITER)
        for s in range(seats):
            seat = Seat.objects.create(
                organization=org, position=s + 1, monthly_allowance=allowance
            )
            e164 = f"+1{600 + org.pk % 300}555{s:04d}"
            number = PhoneNumber.objects.create(
                organization=org,
                seat=seat,
                e164=e164,
                carrier="simulator",
                carrier_id=f"BENCH{org.pk}-{s}",
                monthly_allowance=allowance,
                purchased_at=now,
            )
            numbers.append((number.pk, e164))
            for slot in (1, 2, 3):
                # No password: hashing one costs more than a benchmark's setup should
                # (sessions and API tokens are minted directly).
                user = User.objects.create_user(
                    f"r{org.pk}-{s}-{slot}@bench.test",
                    None,
                    organization=org,
                    first_name="Rec",
                    last_name=f"{s}-{slot}",
                )
                user.groups.set([recruiters])
                SeatAssignment.objects.create(organization=org, seat=seat, user=user, slot=slot)
                users.append(user.pk)
        base = org.pk * 200_000  # distinct phones per organisation (up to 200,000 each)
        phones = [phone(base + k) for k in range(people)]
        created = Candidate.objects.bulk_create(
            [
                Candidate(
                    organization=org,
                    first_name="Cand",
                    last_name=str(k),
                    mobile=phones[k],
                    sms_consent=True,
                )
                for k in range(people)
            ],
            batch_size=2000,
        )
        candidate_ids = [c.pk for c in created]
        conversation_ids: list[int] = []
        if conversations:
            rows = Conversation.objects.bulk_create(
                [
                    Conversation(
                        organization=org,
                        number_id=numbers[k % seats][0],
                        candidate_id=candidate_ids[k],
                        phone=phones[k],
                    )
                    for k in range(people)
                ],
                batch_size=2000,
            )
            conversation_ids = [c.pk for c in rows]
    return Org(org.pk, numbers, users, phones, candidate_ids, conversation_ids)


def api_token(user_id: int) -> str:
    """A bearer token for the API, minted as `POST /api/v1/auth/token` mints them."""
    from hiretext.accounts.models import ApiToken, User

    _, raw = ApiToken.issue(User.objects.get(pk=user_id))
    return str(raw)
