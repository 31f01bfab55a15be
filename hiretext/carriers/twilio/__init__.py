"""The Twilio carrier: an organisation's own Twilio account through the official SDK."""
