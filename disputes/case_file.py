"""What a case's mediation file (卷宗) holds, in the national order, and who supplies it.

The file is put together above `disputes` (the `casefiles` app), but its documents come from
several apps: the case itself (intake register, photos), `mediation` (notice of rights and
duties, records, the agreement, proof of performance, judicial-confirmation papers),
`residents` (the callback record). Each of them registers a provider here in its
`AppConfig.ready()`; the file asks every provider, so no app has to import the one that
assembles the file, and the one that assembles it never imports the others.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db import models
from django.utils.translation import gettext_lazy as _


class Slot(models.IntegerChoices):
    """The order of a people's mediation file (人民调解卷宗), cover and index aside."""

    INTAKE = 10, _("Intake register")  # 受理登记表 / 申请书
    NOTICE = 20, _("Notice of rights and duties")  # 当事人权利义务告知书
    IDENTITY = 30, _("Identity papers")  # 当事人身份证明
    INVESTIGATION = 40, _("Investigation notes")  # 调查笔录
    EVIDENCE = 50, _("Evidence")  # 证据材料
    RECORD = 60, _("Mediation records")  # 调解笔录
    AGREEMENT = 70, _("Mediation agreement")  # 调解协议书
    PERFORMANCE = 80, _("Proof of performance")  # 履行情况凭证
    CALLBACK = 90, _("Callback record")  # 回访记录
    CONFIRMATION = 100, _("Judicial confirmation papers")  # 司法确认材料


@dataclass(frozen=True)
class FileDocument:
    """One document of the file. `read()` returns its bytes only when the file is built, so
    listing a case's documents (the index page) renders nothing."""

    slot: int
    title: str
    created_at: datetime
    content_type: str  # "application/pdf" or an image type (image/jpeg, image/png)
    read: Callable[[], bytes]
    # True when the document shows parties' phones or ID numbers that a viewer without the
    # right to see them must not get; the file then renders a masked version instead.
    holds_pii: bool = False
    read_masked: Callable[[], bytes] | None = None


# provider(case) -> the documents it holds for that case, in any order.
Provider = Callable[[object], Iterable[FileDocument]]
_providers: list[Provider] = []


def register(provider: Provider) -> Provider:
    """Add a provider (usable as a decorator). Called from `AppConfig.ready()`."""
    if provider not in _providers:
        _providers.append(provider)
    return provider


def documents_for(case) -> list[FileDocument]:
    """Every registered provider's documents for `case`, in the national order (ties by
    time, then title), so the same case always gives the same file."""
    docs = [doc for provider in _providers for doc in provider(case)]
    return sorted(docs, key=lambda d: (d.slot, d.created_at, d.title))
