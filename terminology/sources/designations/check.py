#!/usr/bin/env python3
"""Offline consistency check for the curated designation CSVs in this folder.

Not needed at run time. Run:  python3 check.py [MVC_DIR]
Checks, for every *.csv here:
  * exact header  system,code,en,fr,de,es,it,pt,nl,pl  and 10 cells per row, UTF-8
  * every (system, code) exists in the eHDSI MVC 8.1.0 JSON files, or is one of the
    whitelisted FHIR/IPS codes below, or is a concept the project adds to the MVC
    (terminology/data/project/CodeSystem-*.json, compiled from terminology/_catalogue_data.py)
  * the en column equals the MVC English display (or the FHIR / project display)
  * no duplicate (system, code) within or across files
  * no leading/trailing blanks, no double blanks, no mojibake, no replacement char
Prints row counts per file and per language. Exit status 1 on any error.
"""
import csv
import glob
import json
import os
import sys
import unicodedata
from collections import Counter

HERE = os.path.dirname(os.path.abspath(__file__))
PROJECT_DIR = os.path.join(HERE, '..', '..', 'data', 'project')
THO_DIR = os.path.join(HERE, '..', '..', 'data', 'tho')
MVC_DIR = sys.argv[1] if len(sys.argv) > 1 else '/work/shared/reference/ehdsi-mvc'
HEADER = ['system', 'code', 'en', 'fr', 'de', 'es', 'it', 'pt', 'nl', 'pl']
LANGS = HEADER[3:]

FHIR = {
    'http://terminology.hl7.org/CodeSystem/condition-clinical': {
        'active': 'Active', 'recurrence': 'Recurrence', 'relapse': 'Relapse',
        'inactive': 'Inactive', 'remission': 'Remission', 'resolved': 'Resolved'},
    'http://terminology.hl7.org/CodeSystem/condition-ver-status': {
        'unconfirmed': 'Unconfirmed', 'provisional': 'Provisional', 'differential': 'Differential',
        'confirmed': 'Confirmed', 'refuted': 'Refuted', 'entered-in-error': 'Entered in Error'},
    'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical': {
        'active': 'Active', 'inactive': 'Inactive', 'resolved': 'Resolved'},
    'http://terminology.hl7.org/CodeSystem/allergyintolerance-verification': {
        'unconfirmed': 'Unconfirmed', 'confirmed': 'Confirmed', 'refuted': 'Refuted',
        'entered-in-error': 'Entered in Error'},
    'http://hl7.org/fhir/allergy-intolerance-criticality': {
        'low': 'Low Risk', 'high': 'High Risk', 'unable-to-assess': 'Unable to Assess Risk'},
    'http://hl7.org/fhir/reaction-event-severity': {
        'mild': 'Mild', 'moderate': 'Moderate', 'severe': 'Severe'},
    'http://hl7.org/fhir/uv/ips/CodeSystem/absent-unknown-uv-ips': {
        'no-allergy-info': 'No information about allergies',
        'no-known-allergies': 'No known allergies',
        'no-medication-info': 'No information about medications',
        'no-known-medications': 'No known medications',
        'no-problem-info': 'No information about problems',
        'no-known-problems': 'No known problems',
        'no-procedure-info': 'No information about past history of procedures',
        'no-known-procedures': 'No known procedures',
        'no-immunization-info': 'No information about immunizations',
        'no-known-immunizations': 'No known immunizations',
        'no-device-info': 'No information about devices',
        'no-known-devices': 'No known devices in use'},
}
# IPS section codes that must be covered (all are LOINC codes present in the MVC)
IPS_SECTIONS = ['48765-2', '10160-0', '11450-4', '11369-6', '47519-4', '46264-8', '30954-2',
                '8716-3', '11348-0', '47420-5', '18776-5', '29762-2', '10162-6', '42348-3', '60591-5']
MOJIBAKE = ('Ã', 'Â', 'Å\x82', 'â€', '\ufffd')


def load_mvc():
    idx = {}
    files = glob.glob(os.path.join(MVC_DIR, '*.json'))
    if not files:
        sys.exit(f'no MVC json files in {MVC_DIR}')
    for f in files:
        with open(f, encoding='utf-8') as fh:
            for c in json.load(fh)['concepts']:
                idx.setdefault((c['system'], c['code']), c['display'])
    for system, codes in FHIR.items():
        for code, disp in codes.items():
            idx.setdefault((system, code), disp)
    # concepts the MVC snapshot lacks, added by the project (LOINC laboratory codes, SNOMED CT
    # disorders and substances, FHIR category codes, ...): run build_data after editing EXTRA
    # and the HL7 Terminology code systems imported by terminology/tools/import_tho.py
    pattern = 'CodeSystem-*.json'
    for f in sorted(glob.glob(os.path.join(PROJECT_DIR, pattern)) + glob.glob(os.path.join(THO_DIR, pattern))):
        with open(f, encoding='utf-8') as fh:
            cs = json.load(fh)
        for c in cs['concept']:
            idx.setdefault((cs['url'], c['code']), c['display'])
    return idx


def main():
    idx = load_mvc()
    errors, warnings = [], []
    seen = {}
    total = Counter()
    files = sorted(glob.glob(os.path.join(HERE, '*.csv')))
    print(f'{"file":34} {"rows":>5} ' + ' '.join(f'{lang_:>5}' for lang_ in LANGS))
    for path in files:
        name = os.path.basename(path)
        per = Counter()
        nrows = 0
        try:
            fh = open(path, encoding='utf-8', newline='')
            rows = list(csv.reader(fh))
        except UnicodeDecodeError as e:
            errors.append(f'{name}: not UTF-8 ({e})')
            continue
        if not rows or rows[0] != HEADER:
            errors.append(f'{name}: bad header {rows[0] if rows else None}')
            continue
        for ln, row in enumerate(rows[1:], 2):
            where = f'{name}:{ln}'
            if len(row) != len(HEADER):
                errors.append(f'{where}: {len(row)} cells')
                continue
            system, code, en = row[0], row[1], row[2]
            key = (system, code)
            if key not in idx:
                errors.append(f'{where}: unknown code {system}|{code}')
            elif idx[key] != en:
                errors.append(f'{where}: en {en!r} != source display {idx[key]!r}')
            if key in seen:
                errors.append(f'{where}: duplicate of {seen[key]}')
            seen[key] = where
            nrows += 1
            for lang, cell in zip(HEADER[2:], row[2:], strict=True):
                if cell != cell.strip() or '  ' in cell:
                    errors.append(f'{where}: whitespace problem in {lang}: {cell!r}')
                if any(m in cell for m in MOJIBAKE):
                    errors.append(f'{where}: mojibake in {lang}: {cell!r}')
                if cell and unicodedata.normalize('NFC', cell) != cell:
                    errors.append(f'{where}: {lang} not NFC-normalised')
                if lang != 'en' and cell:
                    per[lang] += 1
            if not any(row[3:]):
                warnings.append(f'{where}: no translation at all for {code}')
        total['rows'] += nrows
        for lang_ in LANGS:
            total[lang_] += per[lang_]
        print(f'{name:34} {nrows:5} ' + ' '.join(f'{per[lang_]:5}' for lang_ in LANGS))
    print(f'{"TOTAL":34} {total["rows"]:5} ' + ' '.join(f'{total[lang_]:5}' for lang_ in LANGS))
    for s in IPS_SECTIONS:
        if ('http://loinc.org', s) not in seen:
            warnings.append(f'IPS section {s} has no row')
    for system, codes in FHIR.items():
        for code in codes:
            if (system, code) not in seen:
                warnings.append(f'FHIR code {system}|{code} has no row')
    for w in warnings:
        print('WARNING', w)
    for e in errors:
        print('ERROR', e)
    print(f'{len(errors)} error(s), {len(warnings)} warning(s)')
    return 1 if errors else 0


if __name__ == '__main__':
    sys.exit(main())
