--
-- PostgreSQL database dump
--


-- Dumped from database version 15.18 (Debian 15.18-0+deb12u1)
-- Dumped by pg_dump version 15.18 (Debian 15.18-0+deb12u1)

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: alerts; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.alerts (
    month integer NOT NULL,
    customer_id text NOT NULL COLLATE pg_catalog."C",
    seq integer NOT NULL,
    kind text NOT NULL,
    alert jsonb NOT NULL,
    run_id bigint
);


--
-- Name: contribution_customers; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.contribution_customers (
    month integer NOT NULL,
    customer_id text NOT NULL COLLATE pg_catalog."C",
    interest_asset bigint NOT NULL,
    interest_liability bigint NOT NULL,
    fees bigint NOT NULL,
    allocated_costs bigint NOT NULL,
    direct_costs bigint NOT NULL,
    risk_cost bigint NOT NULL,
    capital_charge bigint NOT NULL,
    net_contribution bigint NOT NULL
);


--
-- Name: contribution_lineage; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.contribution_lineage (
    month integer NOT NULL,
    customer_id text NOT NULL COLLATE pg_catalog."C",
    seq integer NOT NULL,
    kind text NOT NULL,
    account text,
    pool text,
    stage integer,
    product text,
    item text,
    balance bigint,
    ftp_rate text,
    customer_rate text,
    rate text,
    risk_weight text,
    days integer,
    driver_quantity text,
    driver_total text,
    amount bigint NOT NULL
);


--
-- Name: contribution_managers; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.contribution_managers (
    month integer NOT NULL,
    manager text NOT NULL COLLATE pg_catalog."C",
    customers bigint NOT NULL,
    interest_asset bigint NOT NULL,
    interest_liability bigint NOT NULL,
    fees bigint NOT NULL,
    allocated_costs bigint NOT NULL,
    direct_costs bigint NOT NULL,
    risk_cost bigint NOT NULL,
    capital_charge bigint NOT NULL,
    net_contribution bigint NOT NULL
);


--
-- Name: contribution_months; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.contribution_months (
    month integer NOT NULL,
    written_at text NOT NULL,
    tool_version text NOT NULL,
    rule_book_text text NOT NULL,
    customers bigint NOT NULL,
    lineage_lines bigint NOT NULL,
    net_contribution bigint NOT NULL
);


--
-- Name: events; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.events (
    month integer NOT NULL,
    customer_id text NOT NULL COLLATE pg_catalog."C",
    seq integer NOT NULL,
    kind text NOT NULL,
    event jsonb NOT NULL,
    run_id bigint
);


--
-- Name: legal_entities; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.legal_entities (
    idx integer NOT NULL,
    code text NOT NULL
);


--
-- Name: meta; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.meta (
    key text NOT NULL,
    value text NOT NULL
);


--
-- Name: months; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.months (
    month integer NOT NULL,
    run_id bigint NOT NULL,
    committed_at text NOT NULL,
    previous text,
    states_count bigint,
    states_sha256 text,
    events_count bigint,
    events_sha256 text,
    alerts_count bigint,
    alerts_sha256 text,
    rejects_count bigint,
    rejects_sha256 text,
    digest text
);


--
-- Name: rejects; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.rejects (
    run_id bigint NOT NULL,
    seq bigint NOT NULL,
    month integer NOT NULL,
    customer_id text,
    category text NOT NULL,
    field text,
    record text,
    other_record text,
    message text NOT NULL
);


--
-- Name: runs; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.runs (
    run_id bigint NOT NULL,
    month integer NOT NULL,
    status text NOT NULL,
    started_at text NOT NULL,
    finished_at text,
    pid bigint NOT NULL,
    host text NOT NULL,
    tool_version text NOT NULL,
    rule_book_fingerprint text NOT NULL,
    rule_book_text text NOT NULL,
    inputs text NOT NULL,
    counts text,
    rerun boolean NOT NULL,
    note text,
    kind text DEFAULT 'month'::text NOT NULL,
    amends integer,
    first_month integer,
    last_month integer
);


--
-- Name: runs_run_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.runs_run_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: runs_run_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.runs_run_id_seq OWNED BY public.runs.run_id;


--
-- Name: states; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.states (
    month integer NOT NULL,
    customer_id text NOT NULL COLLATE pg_catalog."C",
    state bytea NOT NULL,
    history text
);


--
-- Name: tier_codes; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.tier_codes (
    idx integer NOT NULL,
    code text NOT NULL
);


--
-- Name: states_json; Type: VIEW; Schema: public; Owner: -
--

CREATE VIEW public.states_json AS
 SELECT s.month,
    s.customer_id,
    ( SELECT legal_entities.code
           FROM public.legal_entities
          WHERE (legal_entities.idx = (((((get_byte(s.state, 8))::bigint * 16777216) + ((get_byte(s.state, 9))::bigint * 65536)) + ((get_byte(s.state, 10))::bigint * 256)) + ((get_byte(s.state, 11))::bigint * 1)))) AS legal_entity,
        CASE (get_byte(s.state, 2))::bigint
            WHEN 0 THEN 'personal'::text
            ELSE 'corporate'::text
        END AS customer_kind,
        CASE
            WHEN ((((get_byte(s.state, 3))::bigint / 32) % (2)::bigint) = 1) THEN (((
            CASE
                WHEN (((((((((((get_byte(s.state, 16))::bigint -
                CASE
                    WHEN ((get_byte(s.state, 16))::bigint >= 128) THEN 256
                    ELSE 0
                END) * '72057594037927936'::bigint) + ((get_byte(s.state, 17))::bigint * '281474976710656'::bigint)) + ((get_byte(s.state, 18))::bigint * '1099511627776'::bigint)) + ((get_byte(s.state, 19))::bigint * '4294967296'::bigint)) + ((get_byte(s.state, 20))::bigint * 16777216)) + ((get_byte(s.state, 21))::bigint * 65536)) + ((get_byte(s.state, 22))::bigint * 256)) + ((get_byte(s.state, 23))::bigint * 1)) < 0) THEN '-'::text
                ELSE ''::text
            END || ((abs(((((((((((get_byte(s.state, 16))::bigint -
            CASE
                WHEN ((get_byte(s.state, 16))::bigint >= 128) THEN 256
                ELSE 0
            END) * '72057594037927936'::bigint) + ((get_byte(s.state, 17))::bigint * '281474976710656'::bigint)) + ((get_byte(s.state, 18))::bigint * '1099511627776'::bigint)) + ((get_byte(s.state, 19))::bigint * '4294967296'::bigint)) + ((get_byte(s.state, 20))::bigint * 16777216)) + ((get_byte(s.state, 21))::bigint * 65536)) + ((get_byte(s.state, 22))::bigint * 256)) + ((get_byte(s.state, 23))::bigint * 1))) / 100))::text) || '.'::text) || lpad(((abs(((((((((((get_byte(s.state, 16))::bigint -
            CASE
                WHEN ((get_byte(s.state, 16))::bigint >= 128) THEN 256
                ELSE 0
            END) * '72057594037927936'::bigint) + ((get_byte(s.state, 17))::bigint * '281474976710656'::bigint)) + ((get_byte(s.state, 18))::bigint * '1099511627776'::bigint)) + ((get_byte(s.state, 19))::bigint * '4294967296'::bigint)) + ((get_byte(s.state, 20))::bigint * 16777216)) + ((get_byte(s.state, 21))::bigint * 65536)) + ((get_byte(s.state, 22))::bigint * 256)) + ((get_byte(s.state, 23))::bigint * 1))) % (100)::bigint))::text, 2, '0'::text))
            ELSE NULL::text
        END AS aum,
        CASE
            WHEN ((((get_byte(s.state, 3))::bigint / 32) % (2)::bigint) = 1) THEN ((((get_byte(s.state, 3))::bigint / 16) % (2)::bigint) = 1)
            ELSE NULL::boolean
        END AS has_record,
    json_build_object('schema_version', 1, 'status',
        CASE (get_byte(s.state, 1))::bigint
            WHEN 0 THEN 'not_enrolled'::text
            WHEN 1 THEN 'rated'::text
            WHEN 2 THEN 'retained'::text
            ELSE NULL::text
        END, 'tier', ( SELECT tier_codes.code
           FROM public.tier_codes
          WHERE (tier_codes.idx = (get_byte(s.state, 4))::bigint)), 'effective_tier', ( SELECT tier_codes.code
           FROM public.tier_codes
          WHERE (tier_codes.idx = (get_byte(s.state, 5))::bigint)), 'watch',
        CASE
            WHEN ((((get_byte(s.state, 3))::bigint / 1) % (2)::bigint) = 1) THEN json_build_object('since', ((lpad((((((((get_byte(s.state, 28))::bigint * 16777216) + ((get_byte(s.state, 29))::bigint * 65536)) + ((get_byte(s.state, 30))::bigint * 256)) + ((get_byte(s.state, 31))::bigint * 1)) / 100))::text, 4, '0'::text) || '-'::text) || lpad((((((((get_byte(s.state, 28))::bigint * 16777216) + ((get_byte(s.state, 29))::bigint * 65536)) + ((get_byte(s.state, 30))::bigint * 256)) + ((get_byte(s.state, 31))::bigint * 1)) % (100)::bigint))::text, 2, '0'::text)), 'short_months', (((get_byte(s.state, 26))::bigint * 256) + ((get_byte(s.state, 27))::bigint * 1)), 'best_tier', ( SELECT tier_codes.code
               FROM public.tier_codes
              WHERE (tier_codes.idx = (get_byte(s.state, 6))::bigint)), 'peak_aum', (((
            CASE
                WHEN (((((((((((get_byte(s.state, 32))::bigint -
                CASE
                    WHEN ((get_byte(s.state, 32))::bigint >= 128) THEN 256
                    ELSE 0
                END) * '72057594037927936'::bigint) + ((get_byte(s.state, 33))::bigint * '281474976710656'::bigint)) + ((get_byte(s.state, 34))::bigint * '1099511627776'::bigint)) + ((get_byte(s.state, 35))::bigint * '4294967296'::bigint)) + ((get_byte(s.state, 36))::bigint * 16777216)) + ((get_byte(s.state, 37))::bigint * 65536)) + ((get_byte(s.state, 38))::bigint * 256)) + ((get_byte(s.state, 39))::bigint * 1)) < 0) THEN '-'::text
                ELSE ''::text
            END || ((abs(((((((((((get_byte(s.state, 32))::bigint -
            CASE
                WHEN ((get_byte(s.state, 32))::bigint >= 128) THEN 256
                ELSE 0
            END) * '72057594037927936'::bigint) + ((get_byte(s.state, 33))::bigint * '281474976710656'::bigint)) + ((get_byte(s.state, 34))::bigint * '1099511627776'::bigint)) + ((get_byte(s.state, 35))::bigint * '4294967296'::bigint)) + ((get_byte(s.state, 36))::bigint * 16777216)) + ((get_byte(s.state, 37))::bigint * 65536)) + ((get_byte(s.state, 38))::bigint * 256)) + ((get_byte(s.state, 39))::bigint * 1))) / 100))::text) || '.'::text) || lpad(((abs(((((((((((get_byte(s.state, 32))::bigint -
            CASE
                WHEN ((get_byte(s.state, 32))::bigint >= 128) THEN 256
                ELSE 0
            END) * '72057594037927936'::bigint) + ((get_byte(s.state, 33))::bigint * '281474976710656'::bigint)) + ((get_byte(s.state, 34))::bigint * '1099511627776'::bigint)) + ((get_byte(s.state, 35))::bigint * '4294967296'::bigint)) + ((get_byte(s.state, 36))::bigint * 16777216)) + ((get_byte(s.state, 37))::bigint * 65536)) + ((get_byte(s.state, 38))::bigint * 256)) + ((get_byte(s.state, 39))::bigint * 1))) % (100)::bigint))::text, 2, '0'::text)))
            ELSE NULL::json
        END, 'below_entry',
        CASE
            WHEN ((((get_byte(s.state, 3))::bigint / 2) % (2)::bigint) = 1) THEN json_build_object('since', ((lpad((((((((get_byte(s.state, 40))::bigint * 16777216) + ((get_byte(s.state, 41))::bigint * 65536)) + ((get_byte(s.state, 42))::bigint * 256)) + ((get_byte(s.state, 43))::bigint * 1)) / 100))::text, 4, '0'::text) || '-'::text) || lpad((((((((get_byte(s.state, 40))::bigint * 16777216) + ((get_byte(s.state, 41))::bigint * 65536)) + ((get_byte(s.state, 42))::bigint * 256)) + ((get_byte(s.state, 43))::bigint * 1)) % (100)::bigint))::text, 2, '0'::text)), 'months', (((get_byte(s.state, 44))::bigint * 256) + ((get_byte(s.state, 45))::bigint * 1)), 'peak_aum', (((
            CASE
                WHEN (((((((((((get_byte(s.state, 48))::bigint -
                CASE
                    WHEN ((get_byte(s.state, 48))::bigint >= 128) THEN 256
                    ELSE 0
                END) * '72057594037927936'::bigint) + ((get_byte(s.state, 49))::bigint * '281474976710656'::bigint)) + ((get_byte(s.state, 50))::bigint * '1099511627776'::bigint)) + ((get_byte(s.state, 51))::bigint * '4294967296'::bigint)) + ((get_byte(s.state, 52))::bigint * 16777216)) + ((get_byte(s.state, 53))::bigint * 65536)) + ((get_byte(s.state, 54))::bigint * 256)) + ((get_byte(s.state, 55))::bigint * 1)) < 0) THEN '-'::text
                ELSE ''::text
            END || ((abs(((((((((((get_byte(s.state, 48))::bigint -
            CASE
                WHEN ((get_byte(s.state, 48))::bigint >= 128) THEN 256
                ELSE 0
            END) * '72057594037927936'::bigint) + ((get_byte(s.state, 49))::bigint * '281474976710656'::bigint)) + ((get_byte(s.state, 50))::bigint * '1099511627776'::bigint)) + ((get_byte(s.state, 51))::bigint * '4294967296'::bigint)) + ((get_byte(s.state, 52))::bigint * 16777216)) + ((get_byte(s.state, 53))::bigint * 65536)) + ((get_byte(s.state, 54))::bigint * 256)) + ((get_byte(s.state, 55))::bigint * 1))) / 100))::text) || '.'::text) || lpad(((abs(((((((((((get_byte(s.state, 48))::bigint -
            CASE
                WHEN ((get_byte(s.state, 48))::bigint >= 128) THEN 256
                ELSE 0
            END) * '72057594037927936'::bigint) + ((get_byte(s.state, 49))::bigint * '281474976710656'::bigint)) + ((get_byte(s.state, 50))::bigint * '1099511627776'::bigint)) + ((get_byte(s.state, 51))::bigint * '4294967296'::bigint)) + ((get_byte(s.state, 52))::bigint * 16777216)) + ((get_byte(s.state, 53))::bigint * 65536)) + ((get_byte(s.state, 54))::bigint * 256)) + ((get_byte(s.state, 55))::bigint * 1))) % (100)::bigint))::text, 2, '0'::text)))
            ELSE NULL::json
        END, 'retention_months_left', (((get_byte(s.state, 24))::bigint * 256) + ((get_byte(s.state, 25))::bigint * 1)), 'special',
        CASE
            WHEN ((((get_byte(s.state, 3))::bigint / 4) % (2)::bigint) = 1) THEN json_build_object('tier', ( SELECT tier_codes.code
               FROM public.tier_codes
              WHERE (tier_codes.idx = (get_byte(s.state, 7))::bigint)), 'first_month', ((lpad((((((((get_byte(s.state, 56))::bigint * 16777216) + ((get_byte(s.state, 57))::bigint * 65536)) + ((get_byte(s.state, 58))::bigint * 256)) + ((get_byte(s.state, 59))::bigint * 1)) / 100))::text, 4, '0'::text) || '-'::text) || lpad((((((((get_byte(s.state, 56))::bigint * 16777216) + ((get_byte(s.state, 57))::bigint * 65536)) + ((get_byte(s.state, 58))::bigint * 256)) + ((get_byte(s.state, 59))::bigint * 1)) % (100)::bigint))::text, 2, '0'::text)), 'last_month', ((lpad((((((((get_byte(s.state, 60))::bigint * 16777216) + ((get_byte(s.state, 61))::bigint * 65536)) + ((get_byte(s.state, 62))::bigint * 256)) + ((get_byte(s.state, 63))::bigint * 1)) / 100))::text, 4, '0'::text) || '-'::text) || lpad((((((((get_byte(s.state, 60))::bigint * 16777216) + ((get_byte(s.state, 61))::bigint * 65536)) + ((get_byte(s.state, 62))::bigint * 256)) + ((get_byte(s.state, 63))::bigint * 1)) % (100)::bigint))::text, 2, '0'::text)))
            ELSE NULL::json
        END, 'last_month',
        CASE
            WHEN ((((get_byte(s.state, 3))::bigint / 8) % (2)::bigint) = 1) THEN ((lpad((((((((get_byte(s.state, 12))::bigint * 16777216) + ((get_byte(s.state, 13))::bigint * 65536)) + ((get_byte(s.state, 14))::bigint * 256)) + ((get_byte(s.state, 15))::bigint * 1)) / 100))::text, 4, '0'::text) || '-'::text) || lpad((((((((get_byte(s.state, 12))::bigint * 16777216) + ((get_byte(s.state, 13))::bigint * 65536)) + ((get_byte(s.state, 14))::bigint * 256)) + ((get_byte(s.state, 15))::bigint * 1)) % (100)::bigint))::text, 2, '0'::text))
            ELSE NULL::text
        END) AS state
   FROM public.states s;


--
-- Name: runs run_id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.runs ALTER COLUMN run_id SET DEFAULT nextval('public.runs_run_id_seq'::regclass);


--
-- Data for Name: alerts; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: contribution_customers; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.contribution_customers VALUES (202401, 'q001', 0, 55800, 0, 0, 0, 0, 0, 55800);
INSERT INTO public.contribution_customers VALUES (202401, 'q002', 0, 4650, 0, 0, 0, 0, 0, 4650);


--
-- Data for Name: contribution_lineage; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.contribution_lineage VALUES (202401, 'q001', 1, 'interest_liability', 'a1', NULL, NULL, 'demand', NULL, 36000000, '0.0200', '0.0020', NULL, NULL, 31, NULL, NULL, 55800);
INSERT INTO public.contribution_lineage VALUES (202401, 'q002', 1, 'interest_liability', 'a2', NULL, NULL, 'demand', NULL, 3600000, '0.0200', '0.0050', NULL, NULL, 31, NULL, NULL, 4650);


--
-- Data for Name: contribution_managers; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.contribution_managers VALUES (202401, '', 2, 0, 60450, 0, 0, 0, 0, 0, 60450);


--
-- Data for Name: contribution_months; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.contribution_months VALUES (202401, '2026-12-07T11:29:40Z', 'crm-tiering 0.1.0', 'basis = 360
[ftp]
rates = [{ product = "demand", term = "none", effective = "2024-01", rate = "0.0200" }]
', 2, 2, 60450);


--
-- Data for Name: events; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.events VALUES (202401, 'q001', 0, 'entered', '{"kind": "entered", "month": "2024-01", "reason": "met_tier_minimum", "to_tier": "private", "evidence": {"aum": "5800000.00", "threshold": "3000000.00"}, "effective_from": "2024-02"}', 1);
INSERT INTO public.events VALUES (202401, 'q002', 0, 'entered', '{"kind": "entered", "month": "2024-01", "reason": "met_tier_minimum", "to_tier": "private", "evidence": {"aum": "3500000.00", "threshold": "3000000.00"}, "effective_from": "2024-02"}', 1);
INSERT INTO public.events VALUES (202401, 'q003', 0, 'entered', '{"kind": "entered", "month": "2024-01", "reason": "met_tier_minimum", "to_tier": "gold", "evidence": {"aum": "250000.00", "threshold": "200000.00"}, "effective_from": "2024-02"}', 1);
INSERT INTO public.events VALUES (202401, 'q004', 0, 'entered', '{"kind": "entered", "month": "2024-01", "reason": "met_tier_minimum", "to_tier": "diamond", "evidence": {"aum": "1200000.00", "threshold": "1000000.00"}, "effective_from": "2024-02"}', 1);
INSERT INTO public.events VALUES (202401, 'q005', 0, 'entered', '{"kind": "entered", "month": "2024-01", "reason": "met_tier_minimum", "to_tier": "private", "evidence": {"aum": "7000000.00", "threshold": "3000000.00"}, "effective_from": "2024-02"}', 1);


--
-- Data for Name: legal_entities; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.legal_entities VALUES (1, '620101');


--
-- Data for Name: meta; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.meta VALUES ('store', 'crm-tiering');
INSERT INTO public.meta VALUES ('schema_version', '5');
INSERT INTO public.meta VALUES ('created_at', '2026-12-07T11:29:39Z');
INSERT INTO public.meta VALUES ('portfolio_id', 'b8d3a913d801c7976cd0edd38a5c5020');
INSERT INTO public.meta VALUES ('head_month', '2024-01');
INSERT INTO public.meta VALUES ('head_digest', 'b9da195e60116a7c080967cc0a563013a2629bc63297f3d6ad86b42dba645080');


--
-- Data for Name: months; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.months VALUES (202401, 1, '2026-12-07T11:29:39Z', '3947d3d9c98e8e360364b390d292803d5908813908ef5c81b206c3e537eca994', 6, '4850014cd885310db441adf2e4b885845430acc7bcae1cb48058b4274504eb17', 5, '16afa2f27c5a8765c620fc341a11bc57caace9245abff0bd445c82d1246dba81', 0, 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', 0, 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', 'b9da195e60116a7c080967cc0a563013a2629bc63297f3d6ad86b42dba645080');


--
-- Data for Name: rejects; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: runs; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.runs VALUES (1, 202401, 'committed', '2026-12-07T11:29:39Z', '2026-12-07T11:29:39Z', 17610, 'vm', 'crm-tiering 0.1.0', '7b8bfa7e1aa07639840bc2b9dac16f1130e25201826c7b4b2d95a9459871cf22', '{
  "format_version": 1,
  "name": "crm-tiering default personal rule book",
  "rule_sets": [
    {
      "name": "default",
      "versions": [
        {
          "effective_from": "2000-01",
          "threshold_comparison": "at_least",
          "exit_after_months": 6,
          "retention_months": 2,
          "watch_months": 3,
          "downgrade_target": "highest_in_window",
          "special_vip_months": 12,
          "special_vip_notice_months": 2,
          "near_threshold_band": "0.10",
          "tiers": [
            {
              "code": "gold",
              "name_zh": "金卡",
              "name_en": "Gold",
              "min_aum": "200000"
            },
            {
              "code": "platinum",
              "name_zh": "白金卡",
              "name_en": "Platinum",
              "min_aum": "500000"
            },
            {
              "code": "diamond",
              "name_zh": "钻石卡",
              "name_en": "Diamond",
              "min_aum": "1000000"
            },
            {
              "code": "private",
              "name_zh": "私行级",
              "name_en": "Private banking",
              "min_aum": "3000000"
            }
          ],
          "aum": {
            "divisor": "calendar_days",
            "missing_day": "zero",
            "rounding": "half_up",
            "rounding_level": "customer",
            "components": [
              {
                "code": "demand_deposit",
                "name_zh": "活期存款",
                "name_en": "Demand deposits",
                "group": "deposits",
                "included": true,
                "weight": "1"
              },
              {
                "code": "time_deposit",
                "name_zh": "定期存款",
                "name_en": "Time deposits",
                "group": "deposits",
                "included": true,
                "weight": "1"
              },
              {
                "code": "cert_treasury",
                "name_zh": "凭证式国债",
                "name_en": "Certificate treasury bonds",
                "group": "investment_wealth",
                "included": true,
                "weight": "1"
              },
              {
                "code": "wealth_product",
                "name_zh": "理财产品",
                "name_en": "Wealth-management products",
                "group": "investment_wealth",
                "included": true,
                "weight": "1"
              },
              {
                "code": "securities_fund",
                "name_zh": "证券基金",
                "name_en": "Securities funds",
                "group": "investment_wealth",
                "included": true,
                "weight": "1"
              },
              {
                "code": "treasury_bond",
                "name_zh": "国债",
                "name_en": "Treasury bonds",
                "group": "investment_wealth",
                "included": true,
                "weight": "1"
              },
              {
                "code": "gold",
                "name_zh": "黄金",
                "name_en": "Gold",
                "group": "investment_wealth",
                "included": true,
                "weight": "1"
              },
              {
                "code": "cts_margin",
                "name_zh": "第三方存管保证金",
                "name_en": "Third-party custody (CTS) margin",
                "group": "custody_margin",
                "included": true,
                "weight": "1"
              }
            ]
          }
        }
      ]
    }
  ]
}', '[{"role":"aum","path":"2024-01.csv","sha256":"fc68c212c6d7b4c45cb278a886bf80fc70a04d167dee72546922149a6a50d629","rows":6}]', '{"states":6,"evaluated":6,"events":5,"alerts":0,"rejects":0}', false, NULL, 'month', NULL, NULL, NULL);


--
-- Data for Name: states; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.states VALUES (202401, 'q001', '\x010100380101000000000001000316a1000000002292190000000000000000000000000000000000000000000000000000000000000000000000000000000000', NULL);
INSERT INTO public.states VALUES (202401, 'q002', '\x010100380101000000000001000316a10000000014dc938000000000000000000000000000000000000000000000000000000000000000000000000000000000', NULL);
INSERT INTO public.states VALUES (202401, 'q003', '\x010100380202000000000001000316a100000000017d784000000000000000000000000000000000000000000000000000000000000000000000000000000000', NULL);
INSERT INTO public.states VALUES (202401, 'q004', '\x010100380303000000000001000316a10000000007270e0000000000000000000000000000000000000000000000000000000000000000000000000000000000', NULL);
INSERT INTO public.states VALUES (202401, 'q005', '\x010100380101000000000001000316a10000000029b9270000000000000000000000000000000000000000000000000000000000000000000000000000000000', NULL);
INSERT INTO public.states VALUES (202401, 'q006', '\x010000380000000000000001000316a1000000000089544000000000000000000000000000000000000000000000000000000000000000000000000000000000', NULL);


--
-- Data for Name: tier_codes; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.tier_codes VALUES (1, 'private');
INSERT INTO public.tier_codes VALUES (2, 'gold');
INSERT INTO public.tier_codes VALUES (3, 'diamond');


--
-- Name: runs_run_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.runs_run_id_seq', 1, true);


--
-- Name: alerts alerts_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.alerts
    ADD CONSTRAINT alerts_pkey PRIMARY KEY (month, customer_id, seq);


--
-- Name: contribution_customers contribution_customers_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.contribution_customers
    ADD CONSTRAINT contribution_customers_pkey PRIMARY KEY (month, customer_id);


--
-- Name: contribution_lineage contribution_lineage_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.contribution_lineage
    ADD CONSTRAINT contribution_lineage_pkey PRIMARY KEY (month, customer_id, seq);


--
-- Name: contribution_managers contribution_managers_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.contribution_managers
    ADD CONSTRAINT contribution_managers_pkey PRIMARY KEY (month, manager);


--
-- Name: contribution_months contribution_months_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.contribution_months
    ADD CONSTRAINT contribution_months_pkey PRIMARY KEY (month);


--
-- Name: events events_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.events
    ADD CONSTRAINT events_pkey PRIMARY KEY (month, customer_id, seq);


--
-- Name: legal_entities legal_entities_code_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.legal_entities
    ADD CONSTRAINT legal_entities_code_key UNIQUE (code);


--
-- Name: legal_entities legal_entities_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.legal_entities
    ADD CONSTRAINT legal_entities_pkey PRIMARY KEY (idx);


--
-- Name: meta meta_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.meta
    ADD CONSTRAINT meta_pkey PRIMARY KEY (key);


--
-- Name: months months_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.months
    ADD CONSTRAINT months_pkey PRIMARY KEY (month);


--
-- Name: rejects rejects_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.rejects
    ADD CONSTRAINT rejects_pkey PRIMARY KEY (run_id, seq);


--
-- Name: runs runs_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.runs
    ADD CONSTRAINT runs_pkey PRIMARY KEY (run_id);


--
-- Name: states states_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.states
    ADD CONSTRAINT states_pkey PRIMARY KEY (month, customer_id);


--
-- Name: tier_codes tier_codes_code_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.tier_codes
    ADD CONSTRAINT tier_codes_code_key UNIQUE (code);


--
-- Name: tier_codes tier_codes_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.tier_codes
    ADD CONSTRAINT tier_codes_pkey PRIMARY KEY (idx);


--
-- Name: alerts_by_customer; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX alerts_by_customer ON public.alerts USING btree (customer_id, month);


--
-- Name: contribution_customers_by_customer; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX contribution_customers_by_customer ON public.contribution_customers USING btree (customer_id, month);


--
-- Name: contribution_lineage_by_customer; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX contribution_lineage_by_customer ON public.contribution_lineage USING btree (customer_id, month);


--
-- Name: events_by_customer; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX events_by_customer ON public.events USING btree (customer_id, month);


--
-- Name: months months_run_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.months
    ADD CONSTRAINT months_run_id_fkey FOREIGN KEY (run_id) REFERENCES public.runs(run_id);


--
-- Name: rejects rejects_run_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.rejects
    ADD CONSTRAINT rejects_run_id_fkey FOREIGN KEY (run_id) REFERENCES public.runs(run_id);


--
-- PostgreSQL database dump complete
--


