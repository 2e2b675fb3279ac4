"""The SQLAlchemy models. Each area adds its module here; migrations build ``Base.metadata``."""

from __future__ import annotations

from digiweetjes.db import Base
from digiweetjes.models.delivery import Campaign, CampaignState, Delivery, DeliveryState
from digiweetjes.models.release import IssueRelease, IssueState
from digiweetjes.models.scheduler_lease import SchedulerLease
from digiweetjes.models.send_rate import SendRate
from digiweetjes.models.subscribers import (
    ConsentEvent,
    ConsentEventType,
    MailThrottle,
    Source,
    Subscriber,
    SubscriberStatus,
    Suppression,
    SuppressionReason,
    TopicList,
    UTCDateTime,
)
from digiweetjes.models.users import AuditEvent, LockScope, LoginFailure, LoginLock, Role, User
from digiweetjes.models.webhook_event import WebhookEvent, WebhookEventKind

__all__ = [
    "AuditEvent",
    "Base",
    "Campaign",
    "CampaignState",
    "ConsentEvent",
    "ConsentEventType",
    "Delivery",
    "DeliveryState",
    "IssueRelease",
    "IssueState",
    "LockScope",
    "LoginFailure",
    "LoginLock",
    "MailThrottle",
    "Role",
    "SchedulerLease",
    "SendRate",
    "Source",
    "Subscriber",
    "SubscriberStatus",
    "Suppression",
    "SuppressionReason",
    "TopicList",
    "UTCDateTime",
    "User",
    "WebhookEvent",
    "WebhookEventKind",
]
