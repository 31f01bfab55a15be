"""Carrier-side state kept in our database: the simulator carrier's number inventory."""

from hiretext.carriers.simulator.models import SimulatorNumber

__all__ = ["SimulatorNumber"]
