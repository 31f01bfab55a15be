"""Signals other apps (the inbox) listen to; each is sent after the change is committed,
except `message_sent` from the send API, which is sent inside its transaction (listeners
must be cheap and must not fail it).

`message_received` (an inbound text) lives in `inbound.py`.
"""

from django.dispatch import Signal

# kwargs: message (an outbound message was accepted: queued), event_published (optional:
# the inbox's event of the message is written already, in the round trip that stored it)
message_sent = Signal()
message_status_changed = Signal()  # kwargs: message (its status moved forward)
conversation_read = Signal()  # kwargs: conversation, user (None when not known)
conversation_viewed = Signal()  # kwargs: conversation, user (a page showed it to the user)
