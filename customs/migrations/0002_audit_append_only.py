"""The audit trail is append-only in the database too: UPDATE, DELETE and TRUNCATE raise.

TRUNCATE is allowed only to a session that sets ``kerwen.audit_maintenance = on``: the test settings
do, because Django empties tables between transactional tests; production settings never do."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION customs_auditevent_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' AND current_setting('kerwen.audit_maintenance', true) = 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'customs_auditevent is append-only (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER customs_auditevent_append_only
    BEFORE UPDATE OR DELETE ON customs_auditevent
    FOR EACH ROW EXECUTE FUNCTION customs_auditevent_append_only();
CREATE TRIGGER customs_auditevent_no_truncate
    BEFORE TRUNCATE ON customs_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION customs_auditevent_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS customs_auditevent_no_truncate ON customs_auditevent;
DROP TRIGGER IF EXISTS customs_auditevent_append_only ON customs_auditevent;
DROP FUNCTION IF EXISTS customs_auditevent_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [("customs", "0001_initial")]
    operations = [migrations.RunSQL(CREATE, DROP)]
