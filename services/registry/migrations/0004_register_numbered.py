"""Register and number a new document in one server-side call.

Revision ID: registry_0004
Revises: registry_0003

``registry_0002`` numbers a document already written (a draft the clerk numbers later). When a
document is registered and numbered at once (a signed outgoing document, an arrival), writing
it first and numbering it afterwards writes every index twice — the number columns are
indexed, so the update is never HOT — and costs a round trip more. ``register_numbered`` takes
the counter lock, then inserts the document with its number, its attachments and history rows
and the ``number_assigned`` outbox row (payload completed as in ``allocate_number``).
"""

from alembic import op

revision = "registry_0004"
down_revision = "registry_0003"
branch_labels = None
depends_on = None

SCHEMA = "registry"


def upgrade() -> None:
    op.execute(
        f"""CREATE OR REPLACE FUNCTION {SCHEMA}.register_numbered(
              p_document jsonb, p_attachments jsonb, p_history jsonb,
              p_book text, p_year integer, p_symbol_suffix text,
              p_event_id uuid, p_topic text, p_type text, p_source text, p_dataschema text,
              p_time timestamptz, p_payload_head bytea)
            RETURNS TABLE (previous integer, allocated integer, number_and_symbol text)
            LANGUAGE plpgsql AS $$
            DECLARE
              v_agency text := p_document->>'agency_code';
              v_id uuid := (p_document->>'id')::uuid;
              v_last integer;
              v_number integer;
              v_symbol text;
              v_document jsonb;
              v_symbol_bytes bytea;
            BEGIN
              SELECT c.last_number INTO v_last FROM {SCHEMA}.book_counters c
               WHERE c.agency_code = v_agency AND c.book = p_book AND c.year = p_year
               FOR UPDATE;
              IF NOT FOUND THEN
                INSERT INTO {SCHEMA}.book_counters (agency_code, book, year, last_number)
                VALUES (v_agency, p_book, p_year, 0) ON CONFLICT DO NOTHING;
                SELECT c.last_number INTO v_last FROM {SCHEMA}.book_counters c
                 WHERE c.agency_code = v_agency AND c.book = p_book AND c.year = p_year
                 FOR UPDATE;
              END IF;
              v_number := v_last + 1;
              UPDATE {SCHEMA}.book_counters c SET last_number = v_number
               WHERE c.agency_code = v_agency AND c.book = p_book AND c.year = p_year;
              v_document := p_document || jsonb_build_object(
                'book', p_book, 'year', p_year, 'number', v_number,
                'seq', nextval(pg_get_serial_sequence('{SCHEMA}.documents', 'seq')));
              IF p_symbol_suffix IS NULL THEN
                v_symbol := p_document->>'number_and_symbol';
              ELSE
                -- NĐ 30/2020 Phụ lục I: numbers below 10 are written 01 … 09
                v_symbol := CASE WHEN v_number < 10 THEN '0' ELSE '' END
                            || v_number::text || p_symbol_suffix;
                v_document := v_document || jsonb_build_object(
                  'number_and_symbol', v_symbol,
                  'uniqueness_key', v_agency || '|' || p_year::text || '|' || v_symbol);
              END IF;
              INSERT INTO {SCHEMA}.documents
              SELECT * FROM jsonb_populate_record(NULL::{SCHEMA}.documents, v_document);
              INSERT INTO {SCHEMA}.attachments
                (document_uuid, position, file_name, media_type, size_bytes, sha256)
              SELECT v_id, a.position, a.file_name, a.media_type, a.size_bytes, a.sha256
              FROM jsonb_populate_recordset(NULL::{SCHEMA}.attachments, p_attachments) a;
              INSERT INTO {SCHEMA}.history (document_uuid, from_status, to_status, actor, at, note)
              SELECT v_id, h.from_status, h.to_status, h.actor, h.at, h.note
              FROM jsonb_populate_recordset(NULL::{SCHEMA}.history, p_history) h;
              v_symbol_bytes := convert_to(coalesce(v_symbol, ''), 'UTF8');
              INSERT INTO {SCHEMA}.outbox
                (id, topic, key, type, source, dataschema, time, payload)
              VALUES (p_event_id, p_topic, v_id::text, p_type, p_source, p_dataschema, p_time,
                      p_payload_head
                      || '\\x28'::bytea || {SCHEMA}.pb_varint(v_number)
                      || '\\x32'::bytea || {SCHEMA}.pb_varint(octet_length(v_symbol_bytes))
                      || v_symbol_bytes);
              RETURN QUERY SELECT v_last, v_number, v_symbol;
            END $$"""
    )


def downgrade() -> None:
    op.execute(f"DROP FUNCTION {SCHEMA}.register_numbered")
