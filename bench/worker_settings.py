"""The production settings plus the loopback carrier, for the dispatch benchmark's workers."""

from config.settings import *  # noqa: F403

HIRETEXT_CARRIERS = [
    "hiretext.carriers.simulator.carrier.SimulatorCarrier",
    "hiretext.carriers.twilio.carrier.TwilioCarrier",
    "bench.loopback.LoopbackCarrier",
]
