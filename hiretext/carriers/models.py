"""Carrier-side state kept in our database: the simulator carrier's number inventory."""

from hiretext.carriers.simulator.models import SimulatorNumber
from hiretext.carriers.simulator.phone_models import SimulatorPhone, SimulatorPhoneMessage

__all__ = ["SimulatorNumber", "SimulatorPhone", "SimulatorPhoneMessage"]
