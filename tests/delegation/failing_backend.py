"""An email backend whose server is down: for retry tests."""

from django.core.mail.backends.base import BaseEmailBackend


class EmailBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise ConnectionError("SMTP server unreachable")


class SecondMessageFails(BaseEmailBackend):
    """Delivers the first message (to the locmem outbox) and fails on every later one: a server
    that goes down halfway through a batch of per-language emails."""

    def send_messages(self, email_messages):
        from django.core import mail

        if getattr(mail, "outbox", None):
            raise ConnectionError("SMTP server went away")
        mail.outbox.extend(email_messages[:1])
        return 1
