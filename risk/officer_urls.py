"""Officers' and supervisors' screens: worklist, examinations, post-clearance audits, overrides."""

urlpatterns: list = []
