import factory

from hiretext.ats.models import Application, Candidate, Company, Contact, JobPosting


class CandidateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Candidate

    first_name = factory.Sequence(lambda n: f"Cand{n}")
    last_name = factory.Sequence(lambda n: f"Person{n}")
    email = factory.LazyAttribute(lambda o: f"{o.first_name.lower()}@example.com")
    mobile = factory.Sequence(lambda n: f"+1415555{100 + n % 100:04d}")
    sms_consent = True


class CompanyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Company

    name = factory.Sequence(lambda n: f"Client {n}")


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    first_name = factory.Sequence(lambda n: f"Contact{n}")
    last_name = "Person"
    email = factory.LazyAttribute(lambda o: f"{o.first_name.lower()}@client.example")
    mobile = factory.Sequence(lambda n: f"+1312555{100 + n % 100:04d}")
    sms_consent = True


class JobPostingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = JobPosting

    title = factory.Sequence(lambda n: f"Job {n}")
    location = "Remote"


class ApplicationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Application
