"""The trader and broker portal."""

import datetime

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from customs.selectors import trader_list_for_user


@login_required
def home(request):
    """Portal home: whom the user acts for (its trader, or the traders that authorised its broker)."""
    today = datetime.date.today()
    context = {"traders": trader_list_for_user(request.user, on_day=today), "today": today}
    return render(request, "portal/home.html", context)
