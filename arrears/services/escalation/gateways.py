"""The gateways the outbox sends through, one per channel, built from the settings.

An unconfigured channel has no gateway (`None`): the outbox treats it as unusable and falls back
to the next channel. Letters and hand delivery never have one — they go out in letter batches.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from arrears.config import Settings
from arrears.domain.escalation import Channel

if TYPE_CHECKING:
    from arrears.channels.base import Gateway

#: Channels the outbox sends itself; the others wait for a letter batch.
SENT_BY_DISPATCH = (Channel.EMAIL, Channel.SMS)


@dataclass
class Gateways:
    """{Channel: Gateway | None}."""

    by_channel: Mapping[Channel, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, *gateways: Gateway) -> Gateways:
        """From gateway objects, keyed by their `channel` (handy in tests)."""
        return cls({gateway.channel: gateway for gateway in gateways})

    def get(self, channel: Channel) -> Gateway | None:
        return self.by_channel.get(channel)

    def __getitem__(self, channel: Channel) -> Gateway | None:
        return self.get(channel)


def build_gateways(settings: Settings) -> Gateways:
    """SMTP when `smtp_host` is set, the SMS gateway when `sms_url` is set; None otherwise."""
    by_channel: dict[Channel, Any] = {channel: None for channel in Channel}
    if settings.smtp_host:
        from arrears.channels.email import SmtpGateway  # lazy: channels load only when configured

        by_channel[Channel.EMAIL] = SmtpGateway(
            settings.smtp_host, settings.smtp_port, user=settings.smtp_user,
            password=settings.smtp_password, starttls=settings.smtp_starttls,
            mail_from=settings.mail_from)
    if settings.sms_url:
        from arrears.channels.sms import SmsGateway

        by_channel[Channel.SMS] = SmsGateway(settings.sms_url, settings.sms_key or "",
                                             sign=settings.sms_sign, template=settings.sms_template)
    return Gateways(by_channel)
