from django import template

from hiretext.lib.phones import format_phone

register = template.Library()


@register.filter
def phone(e164: str) -> str:
    """+14155550142 → "+1 415 555 0142"."""
    return format_phone(e164) if e164 else ""
