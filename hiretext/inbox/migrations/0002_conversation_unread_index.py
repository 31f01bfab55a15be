"""A partial index for the bell and the unread lists: only unread conversations, by number.

On the messaging app's table, kept here because only the inbox reads it this way; plain
SQL that SQLite and PostgreSQL both accept.
"""

from django.db import migrations

CREATE = (
    "CREATE INDEX IF NOT EXISTS inbox_conversation_unread ON messaging_conversation "
    "(number_id, last_message_at DESC, id DESC) WHERE unread"
)
DROP = "DROP INDEX IF EXISTS inbox_conversation_unread"


class Migration(migrations.Migration):
    dependencies = [
        ("inbox", "0001_initial"),
        ("messaging", "0001_initial"),
    ]

    operations = [migrations.RunSQL(CREATE, DROP)]
