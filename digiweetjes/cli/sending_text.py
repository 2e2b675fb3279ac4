"""What the sending commands print: plans, run summaries and campaign status as lines of text."""

from __future__ import annotations

from digiweetjes.sending.service import CampaignStatus, Plan
from digiweetjes.sending.summary import SendSummary


def plan_lines(plan: Plan) -> list[str]:
    """A dry run: the audience or the campaign's state, and what a send would do now."""
    if plan.campaign is None:
        head = (f"Issue {plan.issue_id} has not been sent: its audience is {plan.audience} "
                "subscribers right now.")
    else:
        c = plan.counts or {}
        head = (f"Issue {plan.issue_id} is {plan.campaign.state} via {plan.campaign.provider}: "
                f"audience {plan.campaign.audience_size} frozen "
                f"{plan.campaign.audience_frozen_at:%Y-%m-%d %H:%M} UTC; {c.get('sent', 0)} "
                f"sent, {c.get('failed', 0)} failed, {c.get('uncertain', 0)} uncertain, "
                f"{c.get('suppressed', 0)} suppressed.")
    return [head, f"To send now: {plan.to_send} recipients in {plan.batches} batches of at "
                  f"most {plan.batch_size} via {plan.provider}."]


def confirmation_question(plan: Plan) -> str:
    """What ``send`` asks before it writes anything."""
    if plan.campaign is None:
        return (f"Send {plan.issue_id} \"{plan.subject}\" to {plan.audience} subscribers via "
                f"{plan.provider}?")
    return (f"Resume {plan.issue_id}: {plan.to_send} of {plan.audience} recipients left to "
            f"send via {plan.provider}?")


def summary_lines(summary: SendSummary) -> list[str]:
    """One run of a send, and where its campaign stands after it."""
    c = summary.counts or {}
    lines = [
        f"This run: {summary.sent} sent, {summary.failed} failed, {summary.uncertain} "
        f"uncertain, {summary.suppressed} skipped (suppressed) in {summary.elapsed:.1f} s "
        f"({summary.rate:.0f} messages/s, {summary.requests} requests, {summary.retries} "
        "retried).",
        f"Campaign {summary.issue_id} via {summary.provider}: {c.get('sent', 0)} sent, "
        f"{c.get('failed', 0)} failed, {c.get('uncertain', 0)} uncertain, "
        f"{c.get('suppressed', 0)} suppressed, {c.get('queued', 0) + c.get('sending', 0)} "
        "still to send.",
    ]
    if summary.recovered != (0, 0):
        lines.append(f"Recovered from a stopped worker: {summary.recovered[0]} resent under "
                     f"their idempotency key, {summary.recovered[1]} marked uncertain.")
    if summary.reconciled != (0, 0, 0):
        found, requeued, still = summary.reconciled
        lines.append(f"Afgestemd met {summary.provider}: {found} onzekere berichten toch "
                     f"verstuurd, {requeued} niet aangekomen en opnieuw verstuurd, {still} nog "
                     "onzeker.")
    if c.get("uncertain"):
        lines.append(f"{c['uncertain']} deliveries are uncertain (they may have arrived); "
                     "see `digiweetjes status`, resend only with --include-uncertain.")
    if summary.paused_reason:
        lines.append(f"Paused: {summary.paused_reason}")
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
        return [f"Issue {issue_id} has not been sent to the list."]
    campaign, counts = status.campaign, status.counts
    lines = [f"Issue {issue_id}: {campaign.state} via {campaign.provider}, audience "
             f"{campaign.audience_size} frozen {campaign.audience_frozen_at:%Y-%m-%d %H:%M} UTC"]
    lines += [f"  {state:<10} {count:>9}" for state, count in counts.items()]
    if campaign.pause_reason:
        lines.append(f"Paused: {campaign.pause_reason}")
    for state, reasons in status.reasons.items():
        lines.append(f"{state.capitalize()} ({counts[state]}), by reason:")
        lines += [f"  {n:>7} × {reason or '(no reason recorded)'}" for reason, n in reasons]
        lines.append(f"{state.capitalize()} deliveries (first {status.limit}):")
        lines += [f"  #{delivery_id} {email or '(erased)'}: {reason or ''}"
                  for email, delivery_id, reason in status.deliveries[state]]
    if counts["uncertain"]:
        lines.append("Uncertain deliveries may have arrived; `digiweetjes send ISSUE "
                     "--include-uncertain` sends them again (some may then get it twice).")
    return lines
