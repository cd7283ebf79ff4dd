"""Selectivity: score a registered declaration and give it its lane (task ``risk.score_declaration``).

1. the live criteria, compiled (``risk.engine``), kept in memory until one changes;
2. the declaration's facts; the hits of the criteria;
3. random selection per office and lane: a draw in [0, 100) from HMAC-SHA256 under a secret seed of
   the declaration's number and the lane, so an audit can replay it and nobody can predict it;
4. the trader's profile (AEO, recent findings: ``RiskProfileSettings``);
5. the lane: the highest of the hits, the random picks and the profile's minimum (red > yellow > blue >
   green); the declaration gets it through ``declarations.services.control``, a yellow or red lane an
   examination assigned to an officer, a blue one a place in the post-clearance audit queue.

Scoring is idempotent: the declaration's row is locked and one ``Selectivity`` exists per declaration,
so a task delivered twice (or re-sent by the sweeper) scores once.
"""

import hashlib
import hmac
import threading
import time
from collections.abc import Sequence
from datetime import timedelta
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Max
from django.utils import timezone
from django.utils.translation import gettext as _

from customs.models import CountryGroup
from customs.queue import enqueue_on_commit
from declarations.choices import Lane, direction_of
from declarations.models import Declaration, DeclarationItem
from declarations.services.control import CONTROLLED_LANES, LANE_STATES, declaration_lane_assign
from risk.choices import DISCREPANCIES, LANE_RANK, TARGET_LANES, AuditOutcome, SelectionSource
from risk.engine import (
    CompiledCriteria,
    CriterionSpec,
    DeclarationFacts,
    ItemFacts,
    compile_criteria,
    conditions_parse,
    evaluate,
)
from risk.models import (
    Criterion,
    CriterionHit,
    CriterionVersion,
    PostClearanceAudit,
    RandomSelectionRate,
    RiskProfileSettings,
    Selectivity,
)
from risk.services.scoring_sql import ItemRow, declaration_for_scoring, scoring_write

SCORE_TASK = "risk.score_declaration"
HUNDRED = Decimal(100)
DRAW_PLACES = Decimal("0.000001")
RATE_PLACES = Decimal("0.01")  # a random selection rate, in percent: rounded half up, here and when set

_rules_lock = threading.Lock()
# What a scoring process keeps between scorings: the compiled criteria and their stamp, the rates,
# the profile settings, the traders with findings, and when each was last checked.
_rules: dict = {"stamp": None, "criteria": None}


def _groups() -> dict[str, frozenset[str]]:
    # By code, as the conditions name groups and the items keep their origin (the ids of the
    # many-to-many table are the rows' numeric keys).
    members: dict[str, set[str]] = {}
    for group_code, country_code in CountryGroup.countries.through.objects.values_list(
        "countrygroup__code", "country__code"
    ):
        members.setdefault(group_code, set()).add(country_code)
    return {code: frozenset(countries) for code, countries in members.items()}


def version_spec(version: CriterionVersion) -> CriterionSpec:
    return CriterionSpec(
        version_id=version.pk,
        criterion_id=version.criterion_id,
        code=version.criterion.code,
        lane=version.lane,
        conditions=tuple(conditions_parse(version.conditions)),
        valid_from=version.valid_from,
        valid_to=version.valid_to,
        offices=frozenset(version.offices),
        officer_note=version.officer_note,
    )


def criteria_compile(versions) -> CompiledCriteria:
    """Compile criterion versions (any: the live ones, or one draft for a backtest)."""
    return compile_criteria([version_spec(version) for version in versions], groups=_groups())


def _recheck_due(key: str) -> bool:
    """True when the rules cached under ``key`` are older than ``RISK_RULES_RECHECK_SECONDS``: a change
    of criteria, rates or profile settings reaches every scoring process within that time."""
    seconds = getattr(settings, "RISK_RULES_RECHECK_SECONDS", 5)
    checked = _rules.get(f"{key}_checked_at")
    return checked is None or time.monotonic() - checked >= seconds


def _checked(key: str) -> None:
    _rules[f"{key}_checked_at"] = time.monotonic()


def live_criteria() -> CompiledCriteria:
    """The current versions of the live criteria, compiled; rebuilt only when a criterion changed (a
    revision or a change of live state touches ``Criterion.updated_at``) or the members of a country
    group did (the groups are expanded into the compiled set). Whether anything changed is asked at
    most every ``RISK_RULES_RECHECK_SECONDS``."""
    with _rules_lock:
        if _rules["criteria"] is not None and not _recheck_due("criteria"):
            return _rules["criteria"]
    stamp = (
        *Criterion.objects.aggregate(count=Count("pk"), changed=Max("updated_at")).values(),
        *CountryGroup.countries.through.objects.aggregate(count=Count("pk"), last=Max("pk")).values(),
    )
    with _rules_lock:
        if _rules["stamp"] == stamp and _rules["criteria"] is not None:
            _checked("criteria")
            return _rules["criteria"]
    versions = CriterionVersion.objects.filter(
        criterion__active=True, superseded_at__isnull=True
    ).select_related("criterion")
    compiled = criteria_compile(versions)
    with _rules_lock:
        _rules.update(stamp=stamp, criteria=compiled)
        _checked("criteria")
    return compiled


def live_criteria_forget() -> None:
    """Drop the criteria, rates and profile settings cached in this process (tests)."""
    with _rules_lock:
        _rules.clear()
        _rules.update(stamp=None, criteria=None)


def _party(*identifiers: str) -> frozenset[str]:
    return frozenset(" ".join(value.casefold().split()) for value in identifiers if value)


def declaration_facts(
    declaration: Declaration, items: Sequence[DeclarationItem | ItemRow]
) -> DeclarationFacts:
    """What the criteria look at (``items``: the declaration's items, or the fields of them that
    scoring reads, ``ItemRow``). The domestic party is the trader (importer of an import, exporter of
    an export), the foreign party the counterparty; the declarant is the broker, or else the trader."""
    trader = declaration.trader
    domestic = _party(trader.taxpayer_id, trader.name)
    foreign = _party(declaration.counterparty_name)
    is_import = direction_of(declaration.declaration_type) == "IM"
    declarant = (
        _party(declaration.broker.licence_number, declaration.broker.name)
        if declaration.broker_id
        else domestic
    )
    return DeclarationFacts(
        office=declaration.office.code,
        declaration_type=declaration.declaration_type,
        day=timezone.localdate(declaration.registered_at or timezone.now()),
        importer=domestic if is_import else foreign,
        exporter=foreign if is_import else domestic,
        declarant=declarant,
        incoterm=declaration.incoterm_id or "",
        transport_mode=declaration.transport_mode_id or "",
        items=tuple(item_facts(item) for item in items),
    )


def item_facts(item: DeclarationItem | ItemRow) -> ItemFacts:
    value = item.customs_value
    per_kg = value / item.net_mass if value is not None and item.net_mass else None
    per_unit = None
    if value is not None and item.quantities:
        first = next(iter(sorted(item.quantities.items())))[1]
        quantity = Decimal(str(first)) if first not in (None, "") else None
        per_unit = value / quantity if quantity else None
    return ItemFacts(
        number=item.number,
        commodity_code=item.commodity_code or "",
        origin=item.origin_id or "",
        procedure=(item.procedure_code_id or "") + (item.additional_procedure_code_id or ""),
        value_per_kg=per_kg,
        value_per_unit=per_unit,
        preference=bool(item.preference_requested),
    )


def _seed() -> bytes:
    configured = getattr(settings, "RISK_RANDOM_SEED", "")
    if configured:
        return configured.encode()
    return hmac.new(settings.SECRET_KEY.encode(), b"kerwen-risk-random-seed", hashlib.sha256).digest()


def random_draw(declaration_number: str, lane: str) -> Decimal:
    """The declaration's draw for ``lane``, in [0, 100), to six places: selected when below the rate."""
    digest = hmac.new(_seed(), f"{declaration_number}|{lane}".encode(), hashlib.sha256).digest()
    fraction = Decimal(int.from_bytes(digest[:8], "big")) / Decimal(2**64)
    return (fraction * HUNDRED).quantize(DRAW_PLACES, rounding=ROUND_DOWN)


def profile_settings() -> RiskProfileSettings:
    """The profile settings (one row), re-read at most every ``RISK_RULES_RECHECK_SECONDS``."""
    with _rules_lock:
        cached = _rules.get("profile")
        if cached is not None and not _recheck_due("profile"):
            return cached
    settings_row, _created = RiskProfileSettings.objects.get_or_create(pk=1)
    with _rules_lock:
        _rules["profile"] = settings_row
        _checked("profile")
    return settings_row


def _office_rates(office_id: int) -> dict[str, Decimal]:
    """The office's random selection rates by lane, re-read at most every ``RISK_RULES_RECHECK_SECONDS``."""
    key = f"rates_{office_id}"
    with _rules_lock:
        cached = _rules.get(key)
        if cached is not None and not _recheck_due(key):
            return cached
    rates = dict(RandomSelectionRate.objects.filter(office_id=office_id).values_list("lane", "percent"))
    with _rules_lock:
        _rules[key] = rates
        _checked(key)
    return rates


_FINDINGS_SQL = """
SELECT
  (SELECT count(DISTINCT finding.examination_id)
     FROM risk_finding finding
     JOIN risk_examination examination ON examination.id = finding.examination_id
     JOIN declarations_declaration declaration ON declaration.id = examination.declaration_id
    WHERE declaration.trader_id = %(trader)s AND finding.result = ANY(%(results)s)
      AND finding.recorded_at >= %(since)s)
  +
  (SELECT count(*)
     FROM risk_postclearanceaudit audit
     JOIN declarations_declaration declaration ON declaration.id = audit.declaration_id
    WHERE declaration.trader_id = %(trader)s AND audit.outcome = %(discrepancy)s
      AND audit.completed_at >= %(since)s)
"""


_TRADERS_WITH_FINDINGS_SQL = """
SELECT declaration.trader_id
  FROM risk_finding finding
  JOIN risk_examination examination ON examination.id = finding.examination_id
  JOIN declarations_declaration declaration ON declaration.id = examination.declaration_id
 WHERE finding.result = ANY(%(results)s) AND finding.recorded_at >= %(since)s
UNION
SELECT declaration.trader_id
  FROM risk_postclearanceaudit audit
  JOIN declarations_declaration declaration ON declaration.id = audit.declaration_id
 WHERE audit.outcome = %(discrepancy)s AND audit.completed_at >= %(since)s
"""


def _traders_with_findings(since) -> frozenset[int]:
    """The traders with any discrepancy found since ``since`` (few: most traders have none), re-read at
    most every ``RISK_RULES_RECHECK_SECONDS``; only their scorings count their findings."""
    with _rules_lock:
        cached = _rules.get("traders_with_findings")
        if cached is not None and not _recheck_due("traders_with_findings"):
            return cached
    with connection.cursor() as cursor:
        cursor.execute(
            _TRADERS_WITH_FINDINGS_SQL,
            {"results": sorted(DISCREPANCIES), "since": since, "discrepancy": AuditOutcome.DISCREPANCY.value},
        )
        traders = frozenset(row[0] for row in cursor.fetchall())
    with _rules_lock:
        _rules["traders_with_findings"] = traders
        _checked("traders_with_findings")
    return traders


def trader_profile(trader, *, rules: RiskProfileSettings) -> dict:
    """The trader's standing: AEO, and discrepancies found (examinations with a discrepancy, and
    post-clearance audits that found one) in the window; one round trip, for the few traders who
    have any."""
    since = timezone.now() - timedelta(days=rules.findings_window_days)
    if trader.pk not in _traders_with_findings(since):
        return {"aeo": trader.is_aeo, "findings": 0, "raised": False}
    with connection.cursor() as cursor:
        cursor.execute(
            _FINDINGS_SQL,
            {
                "trader": trader.pk,
                "results": sorted(DISCREPANCIES),
                "since": since,
                "discrepancy": AuditOutcome.DISCREPANCY.value,
            },
        )
        findings = cursor.fetchone()[0]
    raised = rules.findings_threshold > 0 and findings >= rules.findings_threshold
    return {"aeo": trader.is_aeo, "findings": findings, "raised": raised}


def lane_decide(
    *, hits, draws: dict, profile: dict, rules: RiskProfileSettings
) -> tuple[str, str, list[str]]:
    """The lane, what gave it, and notes on the profile's effect. Pure: a test or an audit replays it."""
    notes = []
    criteria_lane = hits[0].lane if hits else Lane.GREEN
    random_lane = Lane.GREEN
    for lane in TARGET_LANES:  # highest first
        if draws.get(lane, {}).get("selected"):
            random_lane = lane
            break
    if profile.get("aeo") and rules.aeo_documentary_to_audit:
        if criteria_lane == Lane.YELLOW:
            criteria_lane = Lane.BLUE
            notes.append("aeo_yellow_to_blue")
        if random_lane == Lane.YELLOW:
            random_lane = Lane.BLUE
            notes.append("aeo_random_yellow_to_blue")
    minimum = (
        rules.findings_minimum_lane if profile.get("raised") and rules.findings_minimum_lane else Lane.GREEN
    )
    lane, source = Lane.GREEN, SelectionSource.NONE
    for candidate, candidate_source in (
        (criteria_lane, SelectionSource.CRITERIA),
        (random_lane, SelectionSource.RANDOM),
        (minimum, SelectionSource.PROFILE),
    ):
        if LANE_RANK[candidate] > LANE_RANK[lane]:
            lane, source = candidate, candidate_source
    return lane, source, notes


def _draws(declaration: Declaration, profile: dict, rules: RiskProfileSettings) -> dict:
    rates = _office_rates(declaration.office_id)
    factor = Decimal(1)
    if profile.get("aeo"):
        factor *= rules.aeo_random_factor
    if profile.get("raised"):
        factor *= rules.findings_random_factor
    draws = {}
    for lane in TARGET_LANES:
        configured = rates.get(lane)
        if not configured:
            continue
        rate = min(HUNDRED, (configured * factor).quantize(RATE_PLACES, rounding=ROUND_HALF_UP))
        draw = random_draw(declaration.number, lane)
        draws[lane] = {
            "rate": str(rate),
            "configured": str(configured),
            "draw": str(draw),
            "selected": draw < rate,
        }
    return draws


def _reason(lane: str, source: str, hits) -> str:
    """Why the lane, for the audit event (customs only; the declarant's history says only the lane)."""
    lane_name = Lane(lane).label.lower()
    if source == SelectionSource.CRITERIA:
        codes = ", ".join(hit.code for hit in hits if hit.lane == hits[0].lane)
        return _("Selectivity: %(lane)s lane, criteria %(codes)s.") % {"lane": lane_name, "codes": codes}
    if source == SelectionSource.RANDOM:
        return _("Selectivity: %(lane)s lane, random selection.") % {"lane": lane_name}
    if source == SelectionSource.PROFILE:
        return _("Selectivity: %(lane)s lane, the trader's recent findings.") % {"lane": lane_name}
    return _("Selectivity: green lane, no criterion hit.")


def selectivity_score(declaration_id: int) -> Selectivity | None:
    """Score declaration ``declaration_id`` and give it its lane (idempotent). ``None`` when it no
    longer takes a lane (withdrawn, cancelled, rejected).

    The declaration's row is locked first, and read with all scoring needs in one statement; the
    ``Selectivity``, the hits and a blue lane's place in the audit queue are written in another
    (``risk.services.scoring_sql``), before the examination and the lane."""
    from risk.services.assignment import examination_open

    started = time.perf_counter()
    with transaction.atomic():
        read = declaration_for_scoring(declaration_id)
        if read is None:
            raise Declaration.DoesNotExist(f"No declaration {declaration_id}")
        declaration, scored, items = read
        # The read's snapshot was taken before the lock was granted: a scoring that committed while
        # this one waited shows in the locked row (its lane) but not in ``scored``; ask again.
        scored = scored or (
            bool(declaration.lane) and Selectivity.objects.filter(declaration_id=declaration_id).exists()
        )
        if scored:
            existing = Selectivity.objects.get(declaration_id=declaration_id)
            if not declaration.lane:  # scored, but the lane was lost: give it again
                declaration_lane_assign(declaration_id=declaration_id, lane=existing.lane, locked=declaration)
            return existing
        if declaration.status not in LANE_STATES or declaration.lane:
            return None
        facts = declaration_facts(declaration, items)
        compiled = live_criteria()
        hits = evaluate(compiled, facts)
        rules = profile_settings()
        profile = trader_profile(declaration.trader, rules=rules)
        draws = _draws(declaration, profile, rules)
        lane, source, notes = lane_decide(hits=hits, draws=draws, profile=profile, rules=rules)
        now = timezone.now()
        selectivity = Selectivity(
            declaration_id=declaration_id,
            lane=lane,
            source=source,
            random_draws=draws,
            profile={**profile, "notes": notes},
            criteria_evaluated=compiled.count,
            scored_at=now,
            scoring_ms=Decimal(str(round((time.perf_counter() - started) * 1000, 3))),
        )
        criterion_hits = [
            CriterionHit(
                declaration_id=declaration_id,
                version_id=hit.version_id,
                criterion_id=hit.criterion_id,
                lane=hit.lane,
                item_number=hit.item_number,
                explanation=list(hit.explanation),
                hit_at=now,
            )
            for hit in hits
        ]
        audit = (
            PostClearanceAudit(declaration_id=declaration_id, office_id=declaration.office_id, queued_at=now)
            if lane == Lane.BLUE
            else None
        )
        scoring_write(selectivity, criterion_hits, audit)
        if lane in CONTROLLED_LANES:
            # Before the lane is written: the assignment takes the office's lock, then the audit chain's
            # (``risk.services.assignment``); the lane's audit event here would otherwise take the chain
            # first, and deadlock against the sweeper assigning at the same office.
            examination_open(declaration=declaration, lane=lane)
        declaration_lane_assign(
            declaration_id=declaration_id,
            lane=lane,
            explanation=_reason(lane, source, hits),
            locked=declaration,
        )
    return selectivity


def selectivity_sweep(*, older_than: timedelta = timedelta(minutes=1)) -> int:
    """Send the scoring task again for every registered declaration left without a lane for longer than
    ``older_than`` (a Redis or worker outage lost its task); returns how many. Scoring is idempotent."""
    cutoff = timezone.now() - older_than
    stranded = (
        Declaration.objects.filter(lane="", status__in=LANE_STATES, registered_at__lt=cutoff)
        .filter(assessed_at__isnull=False)
        .order_by("registered_at")
        .values_list("pk", flat=True)[:5000]
    )
    count = 0
    with transaction.atomic():
        for declaration_id in stranded:
            enqueue_on_commit(SCORE_TASK, declaration_id)
            count += 1
    return count
