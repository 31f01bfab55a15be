"""The simulator carrier's inventory: which of its fictional numbers are held or quarantined.

The inventory itself is implicit (NXX-555-0100…0199 for every area code); a row exists
once a number has been sold. Life-cycle of a row::

    (no row: available) --buy--> HELD --release--> QUARANTINED --quarantine over--> available
                                   ^------------------- buy again -------------------'
"""

from typing import ClassVar

from django.db import models


class SimulatorNumber(models.Model):
    """A number the simulator has sold; the unique e164 means it is sold to one buyer at a time."""

    e164 = models.CharField(max_length=16, unique=True)
    area_code = models.CharField(max_length=3)
    carrier_id = models.CharField(max_length=64, help_text="Id handed to the buyer (SIMPN…)")
    held = models.BooleanField(default=True)
    bought_at = models.DateTimeField()
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        app_label = "carriers"
        indexes: ClassVar[list[models.Index]] = [models.Index(fields=["area_code", "held"])]

    def __str__(self) -> str:
        return f"{self.e164} ({'held' if self.held else 'released'})"
