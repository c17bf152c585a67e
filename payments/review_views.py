"""The annual-review page of an RM account: the figure CBSA set at its 20 October review.

The daily check records a computed figure for every account (``payments/reviews.py``); staff who
manage payments enter CBSA's own figure from its notice here, or correct it, and the account's
sufficiency is re-checked against it (``payments.records.enter_security_review``). Thin: the rules
are ``payments/validation.py``'s, the write ``payments/records.py``'s.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from carm_portal.calendar import cbsa_today
from carm_portal.history import Source, history_entries
from carm_portal.http import AuthenticatedHttpRequest
from clients import access
from clients.access import Perm
from clients.models import ProgramAccount
from payments.forms import SecurityReviewForm
from payments.models import SecurityReview
from payments.records import enter_security_review
from payments.rules import review_of
from payments.selectors import account_securities


def last_review_day(today: dt.date) -> dt.date:
    """The last 20 October on or before ``today``: the review a notice is most likely about."""
    review = review_of(today.year).review_on
    return review if review <= today else review_of(today.year - 1).review_on


@login_required
def security_review(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Enter or correct CBSA's figure for an RM account (``Perm.MANAGE_PAYMENTS``)."""
    account = access.get_scoped(
        ProgramAccount.objects.select_related("importer"),
        request.user,
        pk,
        Perm.MANAGE_PAYMENTS,
    )
    today = cbsa_today()
    reviews = list(
        SecurityReview.objects.filter(program_account=account)
        .select_related("recorded_by")
        .order_by("-review_date")
    )
    day = last_review_day(today)
    shown = next((r for r in reviews if r.review_date == day), None)
    initial: dict[str, object] = {"review_date": day}
    if shown is not None and shown.source == SecurityReview.Source.ENTERED:
        initial.update(
            required_bond=shown.required_bond,
            required_cash=shown.required_cash,
            cbsa_reference=shown.cbsa_reference,
            notes=shown.notes,
        )
    form = SecurityReviewForm(request.POST or None, initial=initial, today=today)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        enter_security_review(
            program_account=account,
            review_date=data["review_date"],
            required_bond=data["required_bond"],
            required_cash=data["required_cash"],
            cbsa_reference=data["cbsa_reference"],
            notes=data["notes"],
            by=request.user,
            today=today,
        )
        messages.success(request, _("CBSA's figure recorded; the security was checked against it."))
        return redirect("payments:security_review", pk=account.pk)
    position = account_securities([account], today=today)[account.pk]
    return render(
        request,
        "payments/security_review.html",
        {
            "account": account,
            "importer": account.importer,
            "form": form,
            "reviews": reviews,
            "position": position,
            "history": history_entries(
                [
                    Source(
                        SecurityReview,
                        SecurityReview.history.filter(program_account_id=account.pk),
                        lambda r: _("Review of %(day)s") % {"day": r.review_date.isoformat()},
                    )
                ]
            ),
            "history_lead": _("Every figure recorded for this account's annual reviews."),
        },
    )
