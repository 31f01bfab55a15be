import pytest

from hiretext.ats.models import Candidate, Company, Contact


@pytest.fixture
def make_person(org):
    """`make_person("candidates" | "contacts", organization=None, **fields)`."""

    def make(kind, organization=None, **fields):
        fields.setdefault("first_name", "Ana")
        fields.setdefault("mobile", "+14155550142")
        organization = organization or org
        if kind == "contacts":
            company = fields.pop("company", None)
            if company:
                fields["company"] = Company.objects.get_or_create(
                    organization=organization, name=company
                )[0]
            return Contact.objects.create(organization=organization, **fields)
        return Candidate.objects.create(organization=organization, **fields)

    return make


MODEL = {"candidates": Candidate, "contacts": Contact}
