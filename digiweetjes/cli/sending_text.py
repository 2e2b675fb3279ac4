"""What the sending commands print: plans, run summaries and campaign status as lines of text."""

from __future__ import annotations

from digiweetjes.release.wording import moment
from digiweetjes.sending.service import CampaignStatus, Plan
from digiweetjes.sending.summary import SendSummary
from digiweetjes.subscribers.labels import label

#: A campaign's state as the person who sends reads it.
CAMPAIGN_STATES = {"sending": "wordt verstuurd", "paused": "gepauzeerd", "done": "afgerond"}


def _state(state: str) -> str:
    return CAMPAIGN_STATES.get(state, state)


def plan_lines(plan: Plan) -> list[str]:
    """A dry run: the audience or the campaign's state, and what a send would do now."""
    if plan.campaign is None:
        head = (f"Nummer {plan.issue_id} is nog niet verstuurd: er zijn nu {plan.audience} "
                "ontvangers.")
    else:
        c = plan.counts or {}
        head = (f"Nummer {plan.issue_id}: {_state(plan.campaign.state)} via "
                f"{plan.campaign.provider}; {plan.campaign.audience_size} ontvangers vastgelegd "
                f"op {moment(plan.campaign.audience_frozen_at)}; {c.get('sent', 0)} verstuurd, "
                f"{c.get('failed', 0)} mislukt, {c.get('uncertain', 0)} onzeker, "
                f"{c.get('suppressed', 0)} geblokkeerd.")
    return [head, f"Nu te versturen: {plan.to_send} ontvangers in {plan.batches} pakket(ten) "
                  f"van hoogstens {plan.batch_size} via {plan.provider}."]


def confirmation_question(plan: Plan) -> str:
    """What ``send`` asks before it writes anything."""
    if plan.campaign is None:
        return (f"{plan.issue_id} \"{plan.subject}\" naar {plan.audience} abonnees versturen "
                f"via {plan.provider}?")
    return (f"{plan.issue_id} hervatten: nog {plan.to_send} van de {plan.audience} ontvangers "
            f"te versturen via {plan.provider}?")


def summary_lines(summary: SendSummary) -> list[str]:
    """One run of a send, and where its campaign stands after it."""
    c = summary.counts or {}
    lines = [
        f"Deze beurt: {summary.sent} verstuurd, {summary.failed} mislukt, {summary.uncertain} "
        f"onzeker, {summary.suppressed} overgeslagen (geblokkeerd) in "
        f"{f'{summary.elapsed:.1f}'.replace('.', ',')} s ({summary.rate:.0f} berichten/s, "
        f"{summary.requests} verzoeken, "
        f"{summary.retries} opnieuw geprobeerd).",
        f"Nummer {summary.issue_id} via {summary.provider}: {c.get('sent', 0)} verstuurd, "
        f"{c.get('failed', 0)} mislukt, {c.get('uncertain', 0)} onzeker, "
        f"{c.get('suppressed', 0)} geblokkeerd, {c.get('queued', 0) + c.get('sending', 0)} "
        "nog te versturen.",
    ]
    if summary.recovered != (0, 0):
        lines.append(f"Overgenomen van een gestopt verzendproces: {summary.recovered[0]} "
                     "opnieuw verstuurd met dezelfde sleutel (geen dubbels), "
                     f"{summary.recovered[1]} als onzeker gemarkeerd.")
    if summary.reconciled != (0, 0, 0):
        found, requeued, still = summary.reconciled
        lines.append(f"Afgestemd met {summary.provider}: {found} onzekere berichten toch "
                     f"verstuurd, {requeued} niet aangekomen en opnieuw verstuurd, {still} nog "
                     "onzeker.")
    if c.get("uncertain"):
        lines.append(f"{c['uncertain']} berichten zijn onzeker (misschien toch aangekomen); "
                     "zie `digiweetjes status`, verstuur ze enkel opnieuw met "
                     "--include-uncertain.")
    if summary.paused_reason:
        lines.append(f"Gepauzeerd: {summary.paused_reason}")
    return lines


def incomplete_sentence(issue_id: str, counts: dict[str, int]) -> str | None:
    """What to do, in one sentence, when a campaign has failed or uncertain deliveries."""
    failed, uncertain = counts.get("failed", 0), counts.get("uncertain", 0)
    status = f"zie `digiweetjes status {issue_id}`"
    if failed and uncertain:
        return (f"{failed} berichten mislukten en {uncertain} zijn onzeker: {status}; los de "
                f"oorzaak op en verstuur opnieuw met --retry-failed (de onzekere enkel met "
                "--include-uncertain: die kunnen al aangekomen zijn).")
    if failed:
        return (f"{failed} berichten mislukten: {status}; los de oorzaak op en verstuur "
                "opnieuw met --retry-failed.")
    if uncertain:
        return (f"{uncertain} berichten zijn onzeker (misschien toch aangekomen): {status}; "
                "verstuur ze enkel opnieuw met --include-uncertain als een tweede exemplaar "
                "geen kwaad kan.")
    return None


def status_lines(issue_id: str, status: CampaignStatus | None) -> list[str]:
    """Counts by state, the pause reason, and failed / uncertain deliveries with reasons."""
    if status is None:
        return [f"Nummer {issue_id} is nog niet naar de lijst verstuurd."]
    campaign, counts = status.campaign, status.counts
    lines = [f"Nummer {issue_id}: {_state(campaign.state)} via {campaign.provider}, "
             f"{campaign.audience_size} ontvangers vastgelegd op "
             f"{moment(campaign.audience_frozen_at)}"]
    lines += [f"  {label('delivery', state):<28} {count:>9}" for state, count in counts.items()]
    if campaign.pause_reason:
        lines.append(f"Gepauzeerd: {campaign.pause_reason}")
    for state, reasons in status.reasons.items():
        word = label("delivery", state).capitalize()
        lines.append(f"{word} ({counts[state]}), per reden:")
        lines += [f"  {n:>7} × {reason or '(geen reden bewaard)'}" for reason, n in reasons]
        lines.append(f"{word}: de eerste {status.limit}:")
        lines += [f"  #{delivery_id} {email or '(gewist)'}: {reason or ''}"
                  for email, delivery_id, reason in status.deliveries[state]]
    if counts["uncertain"]:
        lines.append("Onzekere berichten kunnen toch aangekomen zijn; `digiweetjes send NUMMER "
                     "--include-uncertain` verstuurt ze opnieuw (sommigen krijgen het dan "
                     "twee keer).")
    return lines
