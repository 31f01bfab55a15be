import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from hiretext.carriers import registry
from hiretext.carriers.simulator.carrier import SimulatorCarrier


@pytest.fixture(autouse=True)
def _fresh_registry():
    registry.carrier_classes.cache_clear()
    yield
    registry.carrier_classes.cache_clear()


def test_simulator_is_the_default():
    assert isinstance(registry.get_carrier("simulator"), SimulatorCarrier)
    assert registry.carrier_classes()["simulator"] is SimulatorCarrier


@pytest.mark.django_db
def test_carrier_for_org_is_the_simulator_unless_configured(org):
    assert registry.carrier_for_org(org).slug == "simulator"


def test_unknown_slug_is_a_lookup_error():
    with pytest.raises(LookupError):
        registry.get_carrier("pigeon")


class Twin(SimulatorCarrier):
    slug = "simulator"


@override_settings(
    HIRETEXT_CARRIERS=[
        "hiretext.carriers.simulator.carrier.SimulatorCarrier",
        "hiretext.carriers.tests.test_registry.Twin",
    ]
)
def test_duplicate_slugs_are_rejected():
    with pytest.raises(ImproperlyConfigured, match="slug 'simulator'"):
        registry.carrier_classes()


@override_settings(HIRETEXT_CARRIERS=["hiretext.lib.errors.DomainError"])
def test_non_carriers_are_rejected():
    with pytest.raises(ImproperlyConfigured, match="not a Carrier"):
        registry.carrier_classes()


def test_classes_are_loaded_once():
    first = registry.carrier_classes()
    with override_settings(HIRETEXT_CARRIERS=[]):
        assert registry.carrier_classes() is first
