"""A real SMTP server on loopback (aiosmtpd) that tests can stop and start, and helpers to read what it got."""

from __future__ import annotations

import email
import socket
import time
from email.message import EmailMessage
from email.policy import default

import icalendar
from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Handler:
    def __init__(self, inbox: list):
        self.inbox = inbox

    async def handle_DATA(self, server, session, envelope):
        self.inbox.append(
            {
                "mail_from": envelope.mail_from,
                "rcpt_tos": list(envelope.rcpt_tos),
                "raw": envelope.original_content or envelope.content,
            }
        )
        return "250 Message accepted for delivery"


class SMTPServer:
    """Keeps its port and its inbox across stop() and start(), like a mail server that goes down and up."""

    def __init__(self, **smtp_options):
        self.port = free_port()
        self.inbox: list[dict] = []
        self.controller: Controller | None = None
        self.smtp_options = smtp_options  # passed to aiosmtpd's SMTP, e.g. an authenticator

    def start(self) -> SMTPServer:
        for _ in range(50):  # the port may linger for a moment after stop()
            try:
                self.controller = Controller(
                    _Handler(self.inbox), hostname="127.0.0.1", port=self.port, **self.smtp_options
                )
                self.controller.start()
                return self
            except (OSError, RuntimeError):
                time.sleep(0.1)
        raise RuntimeError(f"could not restart the SMTP server on port {self.port}")

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def messages(self) -> list[EmailMessage]:
        return [email.message_from_bytes(m["raw"], policy=default) for m in self.inbox]


def parts(message: EmailMessage) -> tuple[str, str, list]:
    """(plain text, HTML, [attachments]) of a delivered message, decoded."""
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    return text, html, list(message.iter_attachments())


def calendar_event(attachment) -> tuple[icalendar.Calendar, icalendar.Event]:
    calendar = icalendar.Calendar.from_ical(attachment.get_payload(decode=True))
    (event,) = calendar.walk("VEVENT")
    return calendar, event
