"""Delivering the outbox: claim due messages under a lease, send them over SMTP, record the outcome.

Claiming is safe with several workers: on PostgreSQL the due rows are locked with
SELECT ... FOR UPDATE SKIP LOCKED, on SQLite the claim runs under the database's write lock
(BEGIN IMMEDIATE). A claimed row is "sending" with a lease that ends at `next_attempt_at`; a worker
that dies mid-way leaves the lease to expire and another worker picks the message up again. The
outcome is written only if the lease is still the one this worker took (compare-and-set on
`next_attempt_at`), so a slow worker whose lease was taken over cannot overwrite the newer result.

SMTP cannot be made exactly-once: a crash after the server accepted a message but before "sent" is
stored sends it again when the lease expires. The Message-ID is the row's, so the second copy is the
same message to mail clients.
"""

from __future__ import annotations

import base64
import logging
import re
import smtplib
import ssl
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, parseaddr

from flask import current_app
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from eventreg.db import unit_of_work
from eventreg.logs import log_error
from eventreg.mail.readiness import require_mail_server
from eventreg.models import OutboxMessage, OutboxStatus, utcnow

log = logging.getLogger(__name__)

# Minutes to wait after the 1st, 2nd, … failed attempt; the last delay repeats.
DEFAULT_RETRY_DELAYS = (1, 5, 15, 60, 180, 720)
DEFAULT_MAX_ATTEMPTS = 8
DEFAULT_LEASE_SECONDS = 300
DEFAULT_BATCH_SIZE = 50
SMTP_TIMEOUT = 30

_ADDRESS = re.compile(r"[^\s<>\"'(),;:]+@[^\s<>\"'(),;:]+")


@dataclass
class SendReport:
    sent: list[int] = field(default_factory=list)
    retrying: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)

    @property
    def attempted(self) -> int:
        return len(self.sent) + len(self.retrying) + len(self.failed)


def _setting(name: str, default):
    value = current_app.config.get(name)
    return default if value is None else value


def retry_delay(attempts: int) -> timedelta:
    """How long to wait after `attempts` failed attempts: 1, 5, 15, 60 … minutes."""
    delays = tuple(_setting("MAIL_RETRY_DELAYS", DEFAULT_RETRY_DELAYS))
    index = min(max(attempts, 1), len(delays)) - 1
    return timedelta(minutes=delays[index])


def max_attempts() -> int:
    return int(_setting("MAIL_MAX_ATTEMPTS", DEFAULT_MAX_ATTEMPTS))


def safe_error(exc: BaseException) -> str:
    """What went wrong, for organisers and logs, without addresses or message text."""
    code = getattr(exc, "smtp_code", None)
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = sorted({str(c) for c, _msg in exc.recipients.values()})
        detail = f"recipient refused ({', '.join(codes)})"
    elif isinstance(exc, smtplib.SMTPResponseException):
        detail = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else str(exc)
    else:
        detail = str(exc)
    detail = _ADDRESS.sub("<address>", detail).replace("\n", " ").strip()
    prefix = f"{type(exc).__name__}" + (f" {code}" if code else "")
    return f"{prefix}: {detail}"[:500]


# --- claiming -----------------------------------------------------------------------------------


def claim_due(session: Session, *, now: datetime | None = None, limit: int | None = None) -> list[int]:
    """Take up to `limit` due messages for this worker; returns their ids, now "sending" under a lease.

    Due means pending with next_attempt_at reached, or "sending" whose lease ran out (its worker died).
    """
    now = now or utcnow()
    limit = limit or int(_setting("MAIL_BATCH_SIZE", DEFAULT_BATCH_SIZE))
    lease_until = now + timedelta(seconds=int(_setting("MAIL_LEASE_SECONDS", DEFAULT_LEASE_SECONDS)))
    # A worker step: it owns this short unit of work (claiming), as `_finish` owns the outcome's.
    with unit_of_work(session):
        rows = list(
            session.scalars(
                select(OutboxMessage)
                .where(
                    or_(
                        OutboxMessage.status == OutboxStatus.PENDING,
                        OutboxMessage.status == OutboxStatus.SENDING,
                    ),
                    OutboxMessage.next_attempt_at <= now,
                )
                .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
                .execution_options(populate_existing=True)
            )
        )
        claimed = []
        for message in rows:
            if message.attempts >= max_attempts():
                # Its last attempt died with its worker: give up rather than retry for ever.
                message.status = OutboxStatus.FAILED.value
                message.last_error = message.last_error or "worker stopped during the last attempt"
                continue
            message.status = OutboxStatus.SENDING.value
            message.attempts += 1
            message.next_attempt_at = lease_until
            claimed.append(message.id)
    return claimed


def _finish(session: Session, message_id: int, lease_until: datetime, **values) -> bool:
    """Store an outcome only if this worker still holds the lease; False if another took over."""
    with unit_of_work(session):
        result = session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id == message_id,
                OutboxMessage.status == OutboxStatus.SENDING,
                OutboxMessage.next_attempt_at == lease_until,
            )
            .values(**values)
            .execution_options(synchronize_session=False)
        )
    return result.rowcount == 1


# --- building and sending ---------------------------------------------------------------------


def build_email(message: OutboxMessage, sender: str) -> EmailMessage:
    """The MIME message: text and HTML alternatives, attachments, UTF-8 throughout."""
    # 7-bit transfer encodings (quoted-printable/base64) survive any relay, 8BITMIME or not.
    email = EmailMessage(policy=SMTP.clone(cte_type="7bit"))
    email["From"] = sender
    email["To"] = message.recipient
    email["Subject"] = message.subject  # the policy encodes non-ASCII (ң ө ү) as RFC 2047 UTF-8
    email["Date"] = format_datetime(utcnow())
    email["Message-ID"] = message.message_id
    # Tells auto-responders (holiday replies) not to answer, and mail software that no person typed it.
    email["Auto-Submitted"] = "auto-generated"
    email["X-Auto-Response-Suppress"] = "All"
    email.set_content(message.body_text, charset="utf-8")
    if message.body_html:
        email.add_alternative(message.body_html, subtype="html", charset="utf-8")
    for attachment in message.attachments or []:
        maintype, _, subtype = attachment["mimetype"].partition("/")
        params = {"method": attachment["method"]} if attachment.get("method") else {}
        if maintype == "text":
            email.add_attachment(
                attachment["content"],
                subtype=subtype,
                charset="utf-8",
                filename=attachment["filename"],
                params=params,
            )
        else:
            email.add_attachment(
                base64.b64decode(attachment["content"]),
                maintype=maintype,
                subtype=subtype,
                filename=attachment["filename"],
                params=params,
            )
    # Set last: turning the message multipart moves every Content-* header into the first part.
    email["Content-Language"] = message.locale
    return email


@contextmanager
def smtp_connection() -> Iterator[smtplib.SMTP]:
    config = current_app.config
    host, port = config["MAIL_SERVER"], int(config.get("MAIL_PORT") or 25)
    context = ssl.create_default_context()
    if config.get("MAIL_USE_SSL"):
        connection: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=SMTP_TIMEOUT, context=context)
    else:
        connection = smtplib.SMTP(host, port, timeout=SMTP_TIMEOUT)
    try:
        connection.ehlo()
        if config.get("MAIL_USE_TLS") and not config.get("MAIL_USE_SSL"):
            connection.starttls(context=context)
            connection.ehlo()
        if config.get("MAIL_USERNAME"):
            connection.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
        yield connection
    finally:
        try:
            connection.quit()
        except (smtplib.SMTPException, OSError):
            connection.close()


class _LazySMTP:
    """Opens the connection on the first message and reopens it after a failure."""

    def __init__(self):
        self._context = None
        self.connection: smtplib.SMTP | None = None

    def get(self) -> smtplib.SMTP:
        if self.connection is None:
            self._context = smtp_connection()
            self.connection = self._context.__enter__()
        return self.connection

    def reset(self) -> None:
        if self._context is not None:
            # Closing a broken connection may fail too; there is nothing more to do with it.
            with suppress(Exception):
                self._context.__exit__(None, None, None)
        self._context = None
        self.connection = None


def _log_instead_of_sending(message: OutboxMessage, email: EmailMessage) -> None:
    if current_app.config.get("DEVELOPMENT"):
        # Development only: the full message, so the personal link can be followed from the console.
        log.info(
            "MAIL_SERVER is not set; message %s (%s) not sent, here it is:\n%s",
            message.id,
            message.kind,
            _readable(message),
        )
    else:
        log.info("MAIL_SERVER is not set; message %s (%s) logged and marked sent", message.id, message.kind)


def _readable(message: OutboxMessage) -> str:
    names = ", ".join(a["filename"] for a in message.attachments or [])
    lines = [f"To: {message.recipient}", f"Subject: {message.subject}"]
    if names:
        lines.append(f"Attachments: {names}")
    return "\n".join([*lines, "", message.body_text])


def send_due(session: Session, *, now: datetime | None = None, limit: int | None = None) -> SendReport:
    """One pass of the worker: deliver every message that is due now, and record each outcome."""
    report = SendReport()
    require_mail_server(current_app.config)
    ids = claim_due(session, now=now, limit=limit)
    if not ids:
        return report
    config = current_app.config
    sender = config.get("MAIL_DEFAULT_SENDER") or "eventreg@localhost"
    # The envelope takes the bare address; a display name (maybe in Cyrillic) stays in the From header.
    envelope_from = parseaddr(sender)[1] or sender
    smtp = _LazySMTP()
    unreachable: BaseException | None = None  # once the server cannot be reached, do not wait on it again
    try:
        for message_id in ids:
            session.expire_all()
            message = session.get(OutboxMessage, message_id)
            if message is None:
                continue
            lease_until, attempts = message.next_attempt_at, message.attempts
            try:
                email = build_email(message, sender)
                session.commit()  # no transaction held open while talking to the mail server
                if not config.get("MAIL_SERVER"):
                    _log_instead_of_sending(message, email)
                else:
                    if unreachable is not None:
                        raise unreachable
                    try:
                        connection = smtp.get()
                    except (smtplib.SMTPException, OSError) as exc:
                        unreachable = exc
                        raise
                    connection.send_message(email, from_addr=envelope_from, to_addrs=[message.recipient])
            except Exception as exc:
                if not isinstance(exc, smtplib.SMTPException | OSError):
                    log_error(log, exc, "outbox message %s could not be built or sent", message_id)
                smtp.reset()
                _record_failure(session, message_id, lease_until, attempts, exc, report, now=now)
                continue
            if _finish(
                session,
                message_id,
                lease_until,
                status=OutboxStatus.SENT.value,
                sent_at=utcnow(),
                last_error=None,
            ):
                report.sent.append(message_id)
    finally:
        smtp.reset()
    return report


def _record_failure(
    session: Session,
    message_id: int,
    lease_until: datetime,
    attempts: int,
    exc: BaseException,
    report: SendReport,
    *,
    now: datetime | None,
) -> None:
    error = safe_error(exc)
    if attempts >= max_attempts():
        if _finish(session, message_id, lease_until, status=OutboxStatus.FAILED.value, last_error=error):
            report.failed.append(message_id)
        log.warning("outbox message %s failed for good after %s attempts: %s", message_id, attempts, error)
        return
    next_at = (now or utcnow()) + retry_delay(attempts)
    if _finish(
        session,
        message_id,
        lease_until,
        status=OutboxStatus.PENDING.value,
        last_error=error,
        next_attempt_at=next_at,
    ):
        report.retrying.append(message_id)
    log.warning(
        "outbox message %s attempt %s failed, retrying at %s: %s", message_id, attempts, next_at, error
    )
