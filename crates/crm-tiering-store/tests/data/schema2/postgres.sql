--
-- PostgreSQL database dump
--



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
    alert jsonb NOT NULL
);


--
-- Name: events; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.events (
    month integer NOT NULL,
    customer_id text NOT NULL COLLATE pg_catalog."C",
    seq integer NOT NULL,
    kind text NOT NULL,
    event jsonb NOT NULL
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
    committed_at text NOT NULL
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
    note text
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
    state bytea NOT NULL
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

INSERT INTO public.alerts VALUES (202401, 'c0006', 0, 'potential_vip', '{"aum": "199494.06", "gap": "505.94", "kind": "potential_vip", "tier": "gold", "month": "2024-01", "threshold": "200000.00"}');
INSERT INTO public.alerts VALUES (202401, 'c0016', 0, 'potential_vip', '{"aum": "194914.16", "gap": "5085.84", "kind": "potential_vip", "tier": "gold", "month": "2024-01", "threshold": "200000.00"}');
INSERT INTO public.alerts VALUES (202402, 'c0015', 0, 'potential_vip', '{"aum": "196231.15", "gap": "3768.85", "kind": "potential_vip", "tier": "gold", "month": "2024-02", "threshold": "200000.00"}');
INSERT INTO public.alerts VALUES (202402, 'c0030', 0, 'potential_vip', '{"aum": "189693.30", "gap": "10306.70", "kind": "potential_vip", "tier": "gold", "month": "2024-02", "threshold": "200000.00"}');
INSERT INTO public.alerts VALUES (202402, 'c0040', 0, 'potential_vip', '{"aum": "194120.40", "gap": "5879.60", "kind": "potential_vip", "tier": "gold", "month": "2024-02", "threshold": "200000.00"}');
INSERT INTO public.alerts VALUES (202403, 'c0001', 0, 'downgrade_risk', '{"aum": "213562.01", "gap": "13562.01", "kind": "downgrade_risk", "tier": "gold", "month": "2024-03", "threshold": "200000.00"}');
INSERT INTO public.alerts VALUES (202403, 'c0010', 0, 'downgrade_risk', '{"aum": "204706.10", "gap": "4706.10", "kind": "downgrade_risk", "tier": "gold", "month": "2024-03", "threshold": "200000.00"}');
INSERT INTO public.alerts VALUES (202403, 'c0016', 0, 'exit_risk', '{"aum": "199594.16", "kind": "exit_risk", "tier": "gold", "month": "2024-03", "threshold": "200000.00", "months_left": 5, "months_counted": 1}');
INSERT INTO public.alerts VALUES (202403, 'c0026', 0, 'exit_risk', '{"aum": "195138.26", "kind": "exit_risk", "tier": "gold", "month": "2024-03", "threshold": "200000.00", "months_left": 5, "months_counted": 1}');


--
-- Data for Name: events; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.events VALUES (202401, 'c0001', 0, 'entered', '{"kind": "entered", "month": "2024-01", "reason": "met_tier_minimum", "to_tier": "gold", "evidence": {"aum": "232445.01", "threshold": "200000.00"}, "effective_from": "2024-02"}');
INSERT INTO public.events VALUES (202401, 'c0002', 0, 'entered', '{"kind": "entered", "month": "2024-01", "reason": "met_tier_minimum", "to_tier": "platinum", "evidence": {"aum": "609772.02", "threshold": "500000.00"}, "effective_from": "2024-02"}');
INSERT INTO public.events VALUES (202401, 'c0003', 0, 'entered', '{"kind": "entered", "month": "2024-01", "reason": "met_tier_minimum", "to_tier": "diamond", "evidence": {"aum": "1191750.03", "threshold": "1000000.00"}, "effective_from": "2024-02"}');
INSERT INTO public.events VALUES (202401, 'c0007', 0, 'entered', '{"kind": "entered", "month": "2024-01", "reason": "met_tier_minimum", "to_tier": "platinum", "evidence": {"aum": "697646.07", "threshold": "500000.00"}, "effective_from": "2024-02"}');
INSERT INTO public.events VALUES (202401, 'c0008', 0, 'entered', '{"kind": "entered", "month": "2024-01", "reason": "met_tier_minimum", "to_tier": "diamond", "evidence": {"aum": "1210239.08", "threshold": "1000000.00"}, "effective_from": "2024-02"}');
INSERT INTO public.events VALUES (202401, 'c0011', 0, 'entered', '{"kind": "entered", "month": "2024-01", "reason": "met_tier_minimum", "to_tier": "gold", "evidence": {"aum": "266387.11", "threshold": "200000.00"}, "effective_from": "2024-02"}');
INSERT INTO public.events VALUES (202401, 'c0012', 0, 'entered', '{"kind": "entered", "month": "2024-01", "reason": "met_tier_minimum", "to_tier": "platinum", "evidence": {"aum": "597602.12", "threshold": "500000.00"}, "effective_from": "2024-02"}');
INSERT INTO public.events VALUES (202401, 'c0013', 0, 'entered', '{"kind": "entered", "month": "2024-01", "reason": "met_tier_minimum", "to_tier": "diamond", "evidence": {"aum": "1259236.13", "threshold": "1000000.00"}, "effective_from": "2024-02"}');
INSERT INTO public.events VALUES (202401, 'c0017', 0, 'entered', '{"kind": "entered", "month": "2024-01", "reason": "met_tier_minimum", "to_tier": "platinum", "evidence": {"aum": "601265.17", "threshold": "500000.00"}, "effective_from": "2024-02"}');
INSERT INTO public.events VALUES (202401, 'c0018', 0, 'entered', '{"kind": "entered", "month": "2024-01", "reason": "met_tier_minimum", "to_tier": "diamond", "evidence": {"aum": "1196838.18", "threshold": "1000000.00"}, "effective_from": "2024-02"}');
INSERT INTO public.events VALUES (202401, 'c0021', 0, 'entered', '{"kind": "entered", "month": "2024-01", "reason": "met_tier_minimum", "to_tier": "gold", "evidence": {"aum": "221544.21", "threshold": "200000.00"}, "effective_from": "2024-02"}');
INSERT INTO public.events VALUES (202401, 'c0022', 0, 'entered', '{"kind": "entered", "month": "2024-01", "reason": "met_tier_minimum", "to_tier": "platinum", "evidence": {"aum": "601889.22", "threshold": "500000.00"}, "effective_from": "2024-02"}');
INSERT INTO public.events VALUES (202401, 'c0023', 0, 'entered', '{"kind": "entered", "month": "2024-01", "reason": "met_tier_minimum", "to_tier": "diamond", "evidence": {"aum": "1212226.23", "threshold": "1000000.00"}, "effective_from": "2024-02"}');
INSERT INTO public.events VALUES (202401, 'c0026', 0, 'entered', '{"kind": "entered", "month": "2024-01", "reason": "met_tier_minimum", "to_tier": "gold", "evidence": {"aum": "298377.26", "threshold": "200000.00"}, "effective_from": "2024-02"}');
INSERT INTO public.events VALUES (202401, 'c0027', 0, 'entered', '{"kind": "entered", "month": "2024-01", "reason": "met_tier_minimum", "to_tier": "platinum", "evidence": {"aum": "664115.27", "threshold": "500000.00"}, "effective_from": "2024-02"}');
INSERT INTO public.events VALUES (202401, 'c0028', 0, 'entered', '{"kind": "entered", "month": "2024-01", "reason": "met_tier_minimum", "to_tier": "diamond", "evidence": {"aum": "1156226.28", "threshold": "1000000.00"}, "effective_from": "2024-02"}');
INSERT INTO public.events VALUES (202401, 'c0031', 0, 'entered', '{"kind": "entered", "month": "2024-01", "reason": "met_tier_minimum", "to_tier": "gold", "evidence": {"aum": "272238.31", "threshold": "200000.00"}, "effective_from": "2024-02"}');
INSERT INTO public.events VALUES (202401, 'c0032', 0, 'entered', '{"kind": "entered", "month": "2024-01", "reason": "met_tier_minimum", "to_tier": "platinum", "evidence": {"aum": "666414.32", "threshold": "500000.00"}, "effective_from": "2024-02"}');
INSERT INTO public.events VALUES (202401, 'c0033', 0, 'entered', '{"kind": "entered", "month": "2024-01", "reason": "met_tier_minimum", "to_tier": "diamond", "evidence": {"aum": "1148108.33", "threshold": "1000000.00"}, "effective_from": "2024-02"}');
INSERT INTO public.events VALUES (202401, 'c0036', 0, 'entered', '{"kind": "entered", "month": "2024-01", "reason": "met_tier_minimum", "to_tier": "gold", "evidence": {"aum": "241993.36", "threshold": "200000.00"}, "effective_from": "2024-02"}');
INSERT INTO public.events VALUES (202401, 'c0037', 0, 'entered', '{"kind": "entered", "month": "2024-01", "reason": "met_tier_minimum", "to_tier": "platinum", "evidence": {"aum": "596499.37", "threshold": "500000.00"}, "effective_from": "2024-02"}');
INSERT INTO public.events VALUES (202401, 'c0038', 0, 'entered', '{"kind": "entered", "month": "2024-01", "reason": "met_tier_minimum", "to_tier": "diamond", "evidence": {"aum": "1168977.38", "threshold": "1000000.00"}, "effective_from": "2024-02"}');
INSERT INTO public.events VALUES (202402, 'c0006', 0, 'entered', '{"kind": "entered", "month": "2024-02", "reason": "met_tier_minimum", "to_tier": "gold", "evidence": {"aum": "290868.06", "threshold": "200000.00"}, "effective_from": "2024-03"}');
INSERT INTO public.events VALUES (202402, 'c0016', 0, 'entered', '{"kind": "entered", "month": "2024-02", "reason": "met_tier_minimum", "to_tier": "gold", "evidence": {"aum": "264868.16", "threshold": "200000.00"}, "effective_from": "2024-03"}');
INSERT INTO public.events VALUES (202403, 'c0010', 0, 'entered', '{"kind": "entered", "month": "2024-03", "reason": "met_tier_minimum", "to_tier": "gold", "evidence": {"aum": "204706.10", "threshold": "200000.00"}, "effective_from": "2024-04"}');


--
-- Data for Name: legal_entities; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.legal_entities VALUES (1, '620101');
INSERT INTO public.legal_entities VALUES (2, '620102');
INSERT INTO public.legal_entities VALUES (3, '620100');


--
-- Data for Name: meta; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.meta VALUES ('store', 'crm-tiering');
INSERT INTO public.meta VALUES ('schema_version', '2');
INSERT INTO public.meta VALUES ('created_at', '2026-12-06T12:21:07Z');


--
-- Data for Name: months; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.months VALUES (202401, 1, '2026-12-06T12:21:07Z');
INSERT INTO public.months VALUES (202402, 3, '2026-12-06T12:21:07Z');
INSERT INTO public.months VALUES (202403, 4, '2026-12-06T12:21:07Z');


--
-- Data for Name: rejects; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.rejects VALUES (4, 0, 202403, 'c0007', 'input', 'aum', '2024-03.csv:42', NULL, '2024-03.csv:42: invalid input for customer `c0007`, month 2024-03, field `aum`: `12x.00` is not a decimal amount');


--
-- Data for Name: runs; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.runs VALUES (1, 202401, 'committed', '2026-12-06T12:21:07Z', '2026-12-06T12:21:07Z', 14855, 'vm', 'crm-tiering 0.1.0', '7b8bfa7e1aa07639840bc2b9dac16f1130e25201826c7b4b2d95a9459871cf22', '{
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
}', '[{"role":"aum","path":"2024-01.csv","sha256":"70f4adc13bf21ca3489f3fa5ed54f1187764c413e5ae3ccc909f67b6d917d16a","rows":40}]', '{"states":40,"evaluated":40,"events":22,"alerts":2,"rejects":0}', false, NULL);
INSERT INTO public.runs VALUES (3, 202402, 'committed', '2026-12-06T12:21:07Z', '2026-12-06T12:21:07Z', 14876, 'vm', 'crm-tiering 0.1.0', '7b8bfa7e1aa07639840bc2b9dac16f1130e25201826c7b4b2d95a9459871cf22', '{
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
}', '[{"role":"aum","path":"2024-02b.csv","sha256":"982d2f1397b97f475862344b7b37ec31db5a3478e6c18b62463ec5bf343a09a8","rows":40}]', '{"states":40,"evaluated":40,"events":2,"alerts":3,"rejects":0}', true, NULL);
INSERT INTO public.runs VALUES (2, 202402, 'replaced', '2026-12-06T12:21:07Z', '2026-12-06T12:21:07Z', 14869, 'vm', 'crm-tiering 0.1.0', '7b8bfa7e1aa07639840bc2b9dac16f1130e25201826c7b4b2d95a9459871cf22', '{
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
}', '[{"role":"aum","path":"2024-02.csv","sha256":"b64d069e064050dc8190065bb63c9500855c74ce84b6defead64af8b20fcbfda","rows":40}]', '{"states":40,"evaluated":40,"events":2,"alerts":3,"rejects":0}', false, 'replaced by run 3');
INSERT INTO public.runs VALUES (4, 202403, 'committed', '2026-12-06T12:21:07Z', '2026-12-06T12:21:07Z', 14883, 'vm', 'crm-tiering 0.1.0', '7b8bfa7e1aa07639840bc2b9dac16f1130e25201826c7b4b2d95a9459871cf22', '{
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
}', '[{"role":"aum","path":"2024-03.csv","sha256":"f0d6f17c891102211797df55cfeaeb6656d66ef9784db33fcb9802ebb1310b53","rows":41}]', '{"states":40,"evaluated":39,"events":1,"alerts":4,"rejects":1}', false, NULL);


--
-- Data for Name: states; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.states VALUES (202401, 'c0001', '\x010100380101000000000001000316a1000000000162aed500000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202401, 'c0002', '\x010100380202000000000002000316a10000000003a2703200000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202401, 'c0003', '\x010100380303000000000003000316a100000000071a775b00000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202401, 'c0004', '\x010000380000000000000001000316a10000000000aff68000000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202401, 'c0005', '\x010000380000000000000002000316a1000000000092fc2500000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202401, 'c0006', '\x010000380000000000000003000316a1000000000130675e00000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202401, 'c0007', '\x010100380202000000000001000316a100000000042885ff00000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202401, 'c0008', '\x010100380303000000000002000316a1000000000736ada400000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202401, 'c0009', '\x010000380000000000000003000316a100000000004099ed00000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202401, 'c0010', '\x010000380000000000000001000316a10000000000d2775600000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202401, 'c0011', '\x010100380101000000000002000316a1000000000196797700000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202401, 'c0012', '\x010100380202000000000003000316a100000000038fde5400000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202401, 'c0013', '\x010100380303000000000001000316a1000000000781711d00000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202401, 'c0014', '\x010000380000000000000002000316a1000000000093434600000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202401, 'c0015', '\x010000380000000000000003000316a10000000000b4447f00000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202401, 'c0016', '\x010000380000000000000001000316a10000000001296a5800000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202401, 'c0017', '\x010100380202000000000002000316a1000000000395753500000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202401, 'c0018', '\x010100380303000000000003000316a10000000007223aea00000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202401, 'c0019', '\x010000380000000000000001000316a100000000008168fb00000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202401, 'c0020', '\x010000380000000000000002000316a10000000000974ce400000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202401, 'c0021', '\x010100380101000000000003000316a10000000001520cb500000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202401, 'c0022', '\x010100380202000000000001000316a100000000039668fa00000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202401, 'c0023', '\x010100380303000000000002000316a1000000000739b5df00000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202401, 'c0024', '\x010000380000000000000003000316a1000000000082ae0000000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202401, 'c0025', '\x010000380000000000000001000316a1000000000095268500000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202401, 'c0026', '\x010100380101000000000002000316a10000000001c7499e00000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202401, 'c0027', '\x010100380202000000000003000316a10000000003f55c0700000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202401, 'c0028', '\x010100380303000000000001000316a10000000006e442e400000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202401, 'c0029', '\x010000380000000000000002000316a100000000005a6c8d00000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202401, 'c0030', '\x010000380000000000000003000316a1000000000107744200000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202401, 'c0031', '\x010100380101000000000001000316a100000000019f671700000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202401, 'c0032', '\x010100380202000000000002000316a10000000003f8de1800000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202401, 'c0033', '\x010100380303000000000003000316a10000000006d7dfd100000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202401, 'c0034', '\x010000380000000000000001000316a10000000000a1328a00000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202401, 'c0035', '\x010000380000000000000002000316a10000000000fe701300000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202401, 'c0036', '\x010100380101000000000003000316a100000000017140a800000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202401, 'c0037', '\x010100380202000000000001000316a100000000038e2f9100000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202401, 'c0038', '\x010100380303000000000002000316a10000000006f7b7ca00000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202401, 'c0039', '\x010000380000000000000003000316a100000000003717ab00000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202401, 'c0040', '\x010000380000000000000001000316a10000000000f8a99400000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202402, 'c0001', '\x010100380101000000000001000316a20000000001cd9c4500000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202402, 'c0002', '\x010100380202000000000002000316a200000000039ee71e00000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202402, 'c0003', '\x010100380303000000000002000316a200000000073332ff00000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202402, 'c0004', '\x010000380000000000000001000316a20000000000819a8800000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202402, 'c0005', '\x010000380000000000000002000316a20000000000a62dd100000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202402, 'c0006', '\x010100380101000000000003000316a20000000001bbd45600000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202402, 'c0007', '\x010100380202000000000001000316a200000000039bd3a300000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202402, 'c0008', '\x010100380303000000000002000316a200000000073daf0000000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202402, 'c0009', '\x010000380000000000000003000316a20000000000993fad00000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202402, 'c0010', '\x010000380000000000000001000316a20000000000f9617200000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202402, 'c0011', '\x010100380101000000000002000316a20000000001c5245700000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202402, 'c0012', '\x010100380202000000000003000316a200000000043a71e800000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202402, 'c0013', '\x010100380303000000000001000316a20000000006efa5ad00000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202402, 'c0014', '\x010000380000000000000002000316a200000000004262fa00000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202402, 'c0015', '\x010000380000000000000003000316a200000000012b6ccb00000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202402, 'c0016', '\x010100380101000000000001000316a2000000000194282000000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202402, 'c0017', '\x010100380202000000000002000316a20000000004040ced00000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202402, 'c0018', '\x010100380303000000000003000316a200000000071eda1200000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202402, 'c0019', '\x010000380000000000000001000316a2000000000078413b00000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202402, 'c0020', '\x010000380000000000000002000316a200000000009cd09c00000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202402, 'c0021', '\x010100380101000000000003000316a20000000001bd3db900000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202402, 'c0022', '\x010100380202000000000001000316a2000000000412b09a00000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202402, 'c0023', '\x010100380303000000000002000316a20000000006d80f0b00000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202402, 'c0024', '\x010000380000000000000003000316a20000000000cc6ce800000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202402, 'c0025', '\x010000380000000000000001000316a20000000000953fe900000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202402, 'c0026', '\x010100380101000000000002000316a200000000019db7d200000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202402, 'c0027', '\x010100380202000000000003000316a20000000003db3c8700000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202402, 'c0028', '\x010100380303000000000001000316a200000000072ec90400000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202402, 'c0029', '\x010000380000000000000002000316a20000000000b5db3100000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202402, 'c0030', '\x010000380000000000000003000316a200000000012172f200000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202402, 'c0031', '\x010100380101000000000001000316a20000000001776f7300000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202402, 'c0032', '\x010100380202000000000002000316a200000000041fb6a000000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202402, 'c0033', '\x010100380303000000000003000316a20000000007381b5d00000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202402, 'c0034', '\x010000380000000000000001000316a200000000008ae58e00000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202402, 'c0035', '\x010000380000000000000002000316a20000000000fe70db00000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202402, 'c0036', '\x010100380101000000000003000316a20000000001aa546000000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202402, 'c0037', '\x010100380202000000000001000316a20000000003cc95c900000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202402, 'c0038', '\x010100380303000000000002000316a200000000070774b200000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202402, 'c0039', '\x010000380000000000000003000316a200000000008d3ccb00000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202402, 'c0040', '\x010000380000000000000001000316a2000000000128344800000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202403, 'c0001', '\x010100380101000000000001000316a3000000000145dea900000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202403, 'c0002', '\x010100380202000000000002000316a3000000000410110a00000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202403, 'c0003', '\x010100380303000000000003000316a3000000000767777700000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202403, 'c0004', '\x010000380000000000000001000316a300000000005e986c00000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202403, 'c0005', '\x010000380000000000000002000316a3000000000099b2e500000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202403, 'c0006', '\x010100380101000000000003000316a3000000000194ccee00000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202403, 'c0007', '\x010100080202000000000001000316a2000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202403, 'c0008', '\x010100380303000000000002000316a30000000007348a6000000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202403, 'c0009', '\x010000380000000000000003000316a3000000000090cc6500000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202403, 'c0010', '\x010100380101000000000001000316a30000000001385b5200000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202403, 'c0011', '\x010100380101000000000002000316a30000000001669cbb00000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202403, 'c0012', '\x010100380202000000000003000316a3000000000416281000000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202403, 'c0013', '\x010100380303000000000001000316a300000000072544a100000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202403, 'c0014', '\x010000380000000000000002000316a30000000000675cfe00000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202403, 'c0015', '\x010000380000000000000003000316a30000000001031ed300000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202403, 'c0016', '\x0101003a0101000000000001000316a30000000001308e7800000000000000000000000000000000000316a3000100000000000001308e780000000000000000');
INSERT INTO public.states VALUES (202403, 'c0017', '\x010100380202000000000002000316a300000000039be1bd00000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202403, 'c0018', '\x010100380303000000000003000316a3000000000731e38200000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202403, 'c0019', '\x010000380000000000000001000316a300000000008166a300000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202403, 'c0020', '\x010000380000000000000002000316a30000000000aa520800000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202403, 'c0021', '\x010100380101000000000003000316a30000000001b9581100000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202403, 'c0022', '\x010100380202000000000001000316a30000000003c8adba00000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202403, 'c0023', '\x010100380303000000000002000316a30000000006e9e5d700000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202403, 'c0024', '\x010000380000000000000003000316a300000000008f919c00000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202403, 'c0025', '\x010000380000000000000001000316a30000000000ddaaf900000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202403, 'c0026', '\x0101003a0101000000000002000316a3000000000129c1e200000000000000000000000000000000000316a300010000000000000129c1e20000000000000000');
INSERT INTO public.states VALUES (202403, 'c0027', '\x010100380202000000000003000316a3000000000409e95b00000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202403, 'c0028', '\x010100380303000000000001000316a30000000006db067000000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202403, 'c0029', '\x010000380000000000000002000316a30000000000c6b09100000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202403, 'c0030', '\x010000380000000000000003000316a30000000000f8f1ce00000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202403, 'c0031', '\x010100380101000000000001000316a3000000000194858b00000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202403, 'c0032', '\x010100380202000000000002000316a3000000000422167000000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202403, 'c0033', '\x010100380303000000000003000316a300000000077a98d900000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202403, 'c0034', '\x010000380000000000000001000316a30000000000d1727e00000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202403, 'c0035', '\x010000380000000000000002000316a30000000000c8140f00000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202403, 'c0036', '\x010100380101000000000003000316a3000000000165f0f400000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202403, 'c0037', '\x010100380202000000000001000316a300000000040f53b900000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202403, 'c0038', '\x010100380303000000000002000316a3000000000711898e00000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202403, 'c0039', '\x010000380000000000000003000316a30000000000a4a68b00000000000000000000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO public.states VALUES (202403, 'c0040', '\x010000380000000000000001000316a30000000000ecaa1800000000000000000000000000000000000000000000000000000000000000000000000000000000');


--
-- Data for Name: tier_codes; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.tier_codes VALUES (1, 'gold');
INSERT INTO public.tier_codes VALUES (2, 'platinum');
INSERT INTO public.tier_codes VALUES (3, 'diamond');


--
-- Name: runs_run_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.runs_run_id_seq', 4, true);


--
-- Name: alerts alerts_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.alerts
    ADD CONSTRAINT alerts_pkey PRIMARY KEY (month, customer_id, seq);


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


