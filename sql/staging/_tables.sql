-- The work database (<marts>/.build/warehouse.duckdb): schemas per layer and the tables the Python
-- steps write. Per-wave tables are replaced wave by wave (delete wave → insert wave).
create schema if not exists raw;
create schema if not exists staging;
create schema if not exists codebook;
create schema if not exists marts;

create table if not exists raw.waves (
    wave varchar primary key,
    label varchar,
    fielded date,
    reconstruction boolean not null default false,
    invited integer not null,
    source_file varchar not null,
    source_sha256 varchar not null,
    reader varchar not null,
    exported_rows integer not null,
    asked_items varchar[],
    unmapped_headers varchar[],
    dropped_headers varchar[]
);

create table if not exists raw.wave_respondents (
    wave varchar not null,
    source_file varchar not null,
    source_row bigint not null,
    respondent_key varchar not null,
    panel_key varchar,
    status varchar,
    status_column varchar,
    submitted_at varchar
);

-- One row per non-blank item cell (17 million for a million respondents): only what differs per cell; the file and
-- the header of each item's column are in raw.wave_columns.
create table if not exists raw.wave_export (
    wave varchar not null,
    source_row bigint not null,
    respondent_key varchar not null,
    item varchar not null,
    value varchar not null,
    category varchar
);
-- Work databases written before raw.wave_columns existed: their waves are read again (the SQL is part of every
-- wave's fingerprint), into the narrower table.
alter table raw.wave_export drop column if exists source_file;
alter table raw.wave_export drop column if exists "column";

-- The export's item columns of each wave: one per item, with the file and the header it was read from.
create table if not exists raw.wave_columns (
    wave varchar not null,
    source_file varchar not null,
    item varchar not null,
    "column" varchar not null
);

-- Background variables (codebook `background:`): one row per respondent and variable the export holds; group NULL
-- where the value matches no group (staging quarantines the cell and counts the respondent as not_stated).
create table if not exists raw.wave_groups (
    wave varchar not null,
    source_file varchar not null,
    source_row bigint not null,
    respondent_key varchar not null,
    "column" varchar not null,
    variable varchar not null,
    value varchar,
    "group" varchar
);

create table if not exists staging.respondent_groups (
    wave varchar not null,
    respondent_key varchar not null,
    source_row bigint not null,
    variable varchar not null,
    "group" varchar not null,
    complete boolean not null
);

create table if not exists staging.respondents (
    wave varchar not null,
    respondent_key varchar not null,
    source_row bigint not null,
    complete boolean not null,
    panel_key varchar
);
-- panel_key: keyed pseudonym of the wave.yaml panel_id (the same person in every wave), NULL where nothing links.
-- Work databases written before it existed get the column here; their waves are re-read (the ingest code is part
-- of every wave's fingerprint).
alter table raw.wave_respondents add column if not exists panel_key varchar;
alter table staging.respondents add column if not exists panel_key varchar;

create table if not exists staging.responses (
    wave varchar not null,
    respondent_key varchar not null,
    source_row bigint not null,
    item varchar not null,
    category varchar not null,
    complete boolean not null
);

create table if not exists staging.quarantine (
    wave varchar not null,
    source_file varchar not null,
    source_row bigint not null,
    "column" varchar,
    value varchar,
    reason varchar not null
);

create table if not exists staging.open_answers (
    wave varchar not null,
    item varchar not null,
    respondent_key varchar not null,
    complete boolean not null,
    text varchar not null
);


-- What each wave's rows were made from (pipeline.fingerprints): the files of its folder, the codebook, the
-- pseudonym key (an HMAC of a constant, never the key), the ingest code and library versions. raw.* holds the
-- fingerprint of the raw rows; staging.wave_fingerprints is written in the same transaction as the wave's staging
-- rows and deleted with them, so a wave has a staging fingerprint only while its staged rows match it.
-- `python -m pipeline.cli build` skips a wave whose current fingerprint equals its staging fingerprint.
create table if not exists raw.wave_fingerprints (
    wave varchar not null,
    fingerprint varchar not null
);

create table if not exists staging.wave_fingerprints (
    wave varchar not null,
    fingerprint varchar not null
);
