"""The ledger is append-only and balanced in the database too.

- UPDATE and DELETE of a journal or an entry raise (a correction is a reversing journal); TRUNCATE only
  in a session with ``kerwen.audit_maintenance = on`` (the test settings, which empty tables).
- A deferred constraint trigger checks, at commit, that the entries of every journal written in the
  transaction sum to zero: an unbalanced journal cannot be committed, whatever code wrote it."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION payments_ledger_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' AND current_setting('kerwen.audit_maintenance', true) = 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION '% is append-only (% refused)', TG_TABLE_NAME, TG_OP;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER payments_journal_append_only
    BEFORE UPDATE OR DELETE ON payments_journal
    FOR EACH ROW EXECUTE FUNCTION payments_ledger_append_only();
CREATE TRIGGER payments_journal_no_truncate
    BEFORE TRUNCATE ON payments_journal
    FOR EACH STATEMENT EXECUTE FUNCTION payments_ledger_append_only();
CREATE TRIGGER payments_entry_append_only
    BEFORE UPDATE OR DELETE ON payments_entry
    FOR EACH ROW EXECUTE FUNCTION payments_ledger_append_only();
CREATE TRIGGER payments_entry_no_truncate
    BEFORE TRUNCATE ON payments_entry
    FOR EACH STATEMENT EXECUTE FUNCTION payments_ledger_append_only();

CREATE OR REPLACE FUNCTION payments_entry_balanced() RETURNS trigger AS $$
DECLARE
    total numeric;
BEGIN
    SELECT COALESCE(SUM(amount), 0) INTO total FROM payments_entry WHERE journal_id = NEW.journal_id;
    IF total <> 0 THEN
        RAISE EXCEPTION 'journal % is unbalanced: its entries sum to %', NEW.journal_id, total
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE CONSTRAINT TRIGGER payments_entry_balanced
    AFTER INSERT ON payments_entry
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION payments_entry_balanced();
"""

DROP = """
DROP TRIGGER IF EXISTS payments_entry_balanced ON payments_entry;
DROP FUNCTION IF EXISTS payments_entry_balanced();
DROP TRIGGER IF EXISTS payments_entry_no_truncate ON payments_entry;
DROP TRIGGER IF EXISTS payments_entry_append_only ON payments_entry;
DROP TRIGGER IF EXISTS payments_journal_no_truncate ON payments_journal;
DROP TRIGGER IF EXISTS payments_journal_append_only ON payments_journal;
DROP FUNCTION IF EXISTS payments_ledger_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [("payments", "0001_initial")]
    operations = [migrations.RunSQL(CREATE, DROP)]
