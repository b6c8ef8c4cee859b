"""Typed SQLAlchemy 2 models, one module per aggregate."""

from kt1.models.bags import Bag, ManifestLine
from kt1.models.base import Base
from kt1.models.custody import Handoff, Scan
from kt1.models.devices import Device
from kt1.models.envelopes import GENESIS_HASH, Counter, Envelope, ProvenanceRule, SubjectRule
from kt1.models.handover import HandoverLine, HandoverSheet
from kt1.models.incidents import Incident
from kt1.models.inspection import Remediation, SelfInspection, SelfInspectionItem
from kt1.models.leaving import HandoverRecord, HandoverRecordItem
from kt1.models.paper import InternalLine, InternalSheet, SheetKind, SheetPrint
from kt1.models.printing import PrintAttempt, Printer, PrintJob
from kt1.models.protection import CopyApprover, ProtectionDecision, ProtectionRule
from kt1.models.rules import Checkpoint, DayOff, DeadlineRule, DeadlineRuleSet, Installation
from kt1.models.signin import SignInAttempt, WebSession
from kt1.models.units import Unit, User
from kt1.models.worker import WorkerHeartbeat, WorkerNotice

__all__ = [
    "GENESIS_HASH",
    "Bag",
    "Base",
    "Checkpoint",
    "CopyApprover",
    "Counter",
    "DayOff",
    "DeadlineRule",
    "DeadlineRuleSet",
    "Device",
    "Envelope",
    "Handoff",
    "HandoverLine",
    "HandoverRecord",
    "HandoverRecordItem",
    "HandoverSheet",
    "Incident",
    "Installation",
    "InternalLine",
    "InternalSheet",
    "ManifestLine",
    "PrintAttempt",
    "PrintJob",
    "Printer",
    "ProtectionDecision",
    "ProtectionRule",
    "ProvenanceRule",
    "Remediation",
    "Scan",
    "SelfInspection",
    "SelfInspectionItem",
    "SheetKind",
    "SheetPrint",
    "SignInAttempt",
    "SubjectRule",
    "Unit",
    "User",
    "WebSession",
    "WorkerHeartbeat",
    "WorkerNotice",
]
