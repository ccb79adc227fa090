"""Number allocation as one server-side call: lock the counter, number the document, publish.

Revision ID: registry_0002
Revises: registry_0001

Every client round trip between taking a book's counter lock and committing is time every other
clerk of that book waits; on a loaded host each round trip also costs a scheduler wake-up of
both the client and the server process. ``registry.allocate_number`` does the whole critical
section — ``SELECT … FOR UPDATE`` on the (agency, book, year) counter row (created on first use
with ``INSERT … ON CONFLICT DO NOTHING``), the increment, the document's number and symbol, and
the ``number_assigned`` outbox row — in one call, so the lock is held for that call plus the
COMMIT only.

The event payload is protobuf (``lienthong.registry.v1.NumberAssigned``): the client serialises
every field it knows and the function appends field 5 (number, varint) and field 6
(number_and_symbol, string). Protobuf parsers accept fields in any order, so this is a valid
message; the integration test parses it back.
"""

from alembic import op

revision = "registry_0002"
down_revision = "registry_0001"
branch_labels = None
depends_on = None

SCHEMA = "registry"


def upgrade() -> None:
    op.execute(
        f"""CREATE OR REPLACE FUNCTION {SCHEMA}.pb_varint(value bigint) RETURNS bytea
            LANGUAGE plpgsql IMMUTABLE STRICT AS $$
            DECLARE
              result bytea := ''::bytea;
              rest bigint := value;
            BEGIN
              IF rest < 0 THEN RAISE EXCEPTION 'pb_varint: % is negative', value; END IF;
              LOOP
                IF rest < 128 THEN
                  RETURN result || set_byte('\\x00'::bytea, 0, rest::int);
                END IF;
                result := result || set_byte('\\x00'::bytea, 0, ((rest & 127) | 128)::int);
                rest := rest >> 7;
              END LOOP;
            END $$"""
    )
    op.execute(
        f"""CREATE OR REPLACE FUNCTION {SCHEMA}.allocate_number(
              p_document uuid, p_agency text, p_book text, p_year integer,
              p_symbol_suffix text, p_document_date date, p_status text,
              p_updated_at timestamptz, p_event_id uuid, p_topic text, p_type text,
              p_source text, p_dataschema text, p_time timestamptz, p_payload_head bytea)
            RETURNS TABLE (previous integer, allocated integer, number_and_symbol text)
            LANGUAGE plpgsql AS $$
            DECLARE
              v_last integer;
              v_number integer;
              v_symbol text;
              v_symbol_bytes bytea;
            BEGIN
              SELECT c.last_number INTO v_last FROM {SCHEMA}.book_counters c
               WHERE c.agency_code = p_agency AND c.book = p_book AND c.year = p_year
               FOR UPDATE;
              IF NOT FOUND THEN
                INSERT INTO {SCHEMA}.book_counters (agency_code, book, year, last_number)
                VALUES (p_agency, p_book, p_year, 0) ON CONFLICT DO NOTHING;
                SELECT c.last_number INTO v_last FROM {SCHEMA}.book_counters c
                 WHERE c.agency_code = p_agency AND c.book = p_book AND c.year = p_year
                 FOR UPDATE;
              END IF;
              v_number := v_last + 1;
              UPDATE {SCHEMA}.book_counters c SET last_number = v_number
               WHERE c.agency_code = p_agency AND c.book = p_book AND c.year = p_year;
              IF p_symbol_suffix IS NULL THEN
                -- incoming: the number is a số đến; the sender's symbol stays as it is
                UPDATE {SCHEMA}.documents d
                   SET book = p_book, year = p_year, number = v_number
                 WHERE d.id = p_document
                RETURNING d.number_and_symbol INTO v_symbol;
              ELSE
                -- NĐ 30/2020 Phụ lục I: numbers below 10 are written 01 … 09
                v_symbol := CASE WHEN v_number < 10 THEN '0' ELSE '' END
                            || v_number::text || p_symbol_suffix;
                UPDATE {SCHEMA}.documents d
                   SET book = p_book, year = p_year, number = v_number,
                       number_and_symbol = v_symbol, document_date = p_document_date,
                       status = p_status,
                       uniqueness_key = p_agency || '|' || p_year::text || '|' || v_symbol,
                       updated_at = p_updated_at, version = d.version + 1
                 WHERE d.id = p_document;
              END IF;
              IF NOT FOUND THEN
                RAISE EXCEPTION 'allocate_number: no document %', p_document;
              END IF;
              v_symbol_bytes := convert_to(coalesce(v_symbol, ''), 'UTF8');
              INSERT INTO {SCHEMA}.outbox
                (id, topic, key, type, source, dataschema, time, payload)
              VALUES (p_event_id, p_topic, p_document::text, p_type, p_source, p_dataschema,
                      p_time,
                      p_payload_head
                      || '\\x28'::bytea || {SCHEMA}.pb_varint(v_number)
                      || '\\x32'::bytea || {SCHEMA}.pb_varint(octet_length(v_symbol_bytes))
                      || v_symbol_bytes);
              RETURN QUERY SELECT v_last, v_number, v_symbol;
            END $$"""
    )


def downgrade() -> None:
    op.execute(f"DROP FUNCTION {SCHEMA}.allocate_number")
    op.execute(f"DROP FUNCTION {SCHEMA}.pb_varint")
