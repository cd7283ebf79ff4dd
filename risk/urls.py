"""Screens of the risk module, under /office/risk/: the analysts' criteria (``analyst_urls``) and the
officers' worklist, examinations, audits and the supervisors' overrides (``officer_urls``)."""

from risk import analyst_urls, officer_urls

app_name = "risk"
urlpatterns = analyst_urls.urlpatterns + officer_urls.urlpatterns
