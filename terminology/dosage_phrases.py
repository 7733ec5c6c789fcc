"""The words of a dosage sentence in the eight supported languages (see :mod:`terminology.dosage`).

Numbers, durations with their plural forms, weekday names, times and dates come from CLDR through
Babel; coded parts (units of presentation, routes, sites, reasons) from the terminology's
designations. What is left is here: short fixed phrases, chosen so that a sentence is a list of
fragments separated by commas and no fragment needs grammatical agreement with another.
Curated for this prototype, not clinically reviewed (like the designations).
"""

from __future__ import annotations

#: "once" / "twice" / "{n} times" (index 0: n == 1, 1: n == 2, 2: any n)
TIMES: dict[str, tuple[str, str, str]] = {
    "en": ("once", "twice", "{n} times"),
    "fr": ("une fois", "2 fois", "{n} fois"),
    "de": ("einmal", "zweimal", "{n}-mal"),
    "es": ("una vez", "2 veces", "{n} veces"),
    "it": ("una volta", "2 volte", "{n} volte"),
    "pt": ("uma vez", "2 vezes", "{n} vezes"),
    "nl": ("eenmaal", "tweemaal", "{n} keer"),
    "pl": ("raz", "2 razy", "{n} razy"),
}
#: a range of times: "{n} to {m} times"
TIMES_RANGE: dict[str, str] = {
    "en": "{n} to {m} times", "fr": "{n} à {m} fois", "de": "{n}- bis {m}-mal", "es": "{n} a {m} veces",
    "it": "da {n} a {m} volte", "pt": "{n} a {m} vezes", "nl": "{n} à {m} keer", "pl": "{n}–{m} razy",
}
#: "a day" etc. after the number of times (period of one unit); keys are FHIR UnitsOfTime
PER: dict[str, dict[str, str]] = {
    "en": {"s": "a second", "min": "a minute", "h": "an hour", "d": "a day", "wk": "a week", "mo": "a month", "a": "a year"},
    "fr": {"s": "par seconde", "min": "par minute", "h": "par heure", "d": "par jour", "wk": "par semaine",
           "mo": "par mois", "a": "par an"},
    "de": {"s": "pro Sekunde", "min": "pro Minute", "h": "pro Stunde", "d": "täglich", "wk": "wöchentlich",
           "mo": "monatlich", "a": "jährlich"},
    "es": {"s": "por segundo", "min": "por minuto", "h": "por hora", "d": "al día", "wk": "a la semana",
           "mo": "al mes", "a": "al año"},
    "it": {"s": "al secondo", "min": "al minuto", "h": "all'ora", "d": "al giorno", "wk": "alla settimana",
           "mo": "al mese", "a": "all'anno"},
    "pt": {"s": "por segundo", "min": "por minuto", "h": "por hora", "d": "por dia", "wk": "por semana",
           "mo": "por mês", "a": "por ano"},
    "nl": {"s": "per seconde", "min": "per minuut", "h": "per uur", "d": "per dag", "wk": "per week",
           "mo": "per maand", "a": "per jaar"},
    "pl": {"s": "na sekundę", "min": "na minutę", "h": "na godzinę", "d": "na dobę", "wk": "na tydzień",
           "mo": "na miesiąc", "a": "na rok"},
}
#: "every {duration}" (a period of several units); French agrees with the unit's gender
EVERY: dict[str, str] = {
    "en": "every {d}", "de": "alle {d}", "es": "cada {d}", "it": "ogni {d}", "pt": "a cada {d}", "nl": "elke {d}",
    "pl": "co {d}",
}
EVERY_FR = {"s": "toutes les {d}", "min": "toutes les {d}", "h": "toutes les {d}", "d": "tous les {d}",
            "wk": "toutes les {d}", "mo": "tous les {d}", "a": "tous les {d}"}
#: CLDR unit of each FHIR UnitsOfTime code (babel.units.format_unit)
CLDR_UNIT = {"s": "duration-second", "min": "duration-minute", "h": "duration-hour", "d": "duration-day",
             "wk": "duration-week", "mo": "duration-month", "a": "duration-year"}

#: FHIR EventTiming (and HL7 v3 TimingEvent) codes
WHEN: dict[str, dict[str, str]] = {
    "MORN": {"en": "in the morning", "fr": "le matin", "de": "morgens", "es": "por la mañana", "it": "al mattino",
             "pt": "de manhã", "nl": "'s ochtends", "pl": "rano"},
    "NOON": {"en": "at noon", "fr": "à midi", "de": "mittags", "es": "al mediodía", "it": "a mezzogiorno",
             "pt": "ao meio-dia", "nl": "rond het middaguur", "pl": "w południe"},
    "AFT": {"en": "in the afternoon", "fr": "l'après-midi", "de": "nachmittags", "es": "por la tarde",
            "it": "nel pomeriggio", "pt": "à tarde", "nl": "'s middags", "pl": "po południu"},
    "EVE": {"en": "in the evening", "fr": "le soir", "de": "abends", "es": "por la noche", "it": "la sera",
            "pt": "à noite", "nl": "'s avonds", "pl": "wieczorem"},
    "NIGHT": {"en": "at night", "fr": "la nuit", "de": "nachts", "es": "durante la noche", "it": "di notte",
              "pt": "durante a noite", "nl": "'s nachts", "pl": "w nocy"},
    "HS": {"en": "at bedtime", "fr": "au coucher", "de": "vor dem Schlafengehen", "es": "al acostarse",
           "it": "prima di coricarsi", "pt": "ao deitar", "nl": "voor het slapengaan", "pl": "przed snem"},
    "WAKE": {"en": "on waking", "fr": "au réveil", "de": "nach dem Aufwachen", "es": "al despertar",
             "it": "al risveglio", "pt": "ao acordar", "nl": "bij het ontwaken", "pl": "po przebudzeniu"},
    "C": {"en": "with meals", "fr": "au cours des repas", "de": "zu den Mahlzeiten", "es": "con las comidas",
          "it": "ai pasti", "pt": "às refeições", "nl": "bij de maaltijd", "pl": "podczas posiłków"},
    "CM": {"en": "with breakfast", "fr": "au petit-déjeuner", "de": "zum Frühstück", "es": "con el desayuno",
           "it": "a colazione", "pt": "ao pequeno-almoço", "nl": "bij het ontbijt", "pl": "podczas śniadania"},
    "CD": {"en": "with lunch", "fr": "au déjeuner", "de": "zum Mittagessen", "es": "con el almuerzo",
           "it": "a pranzo", "pt": "ao almoço", "nl": "bij de lunch", "pl": "podczas obiadu"},
    "CV": {"en": "with the evening meal", "fr": "au dîner", "de": "zum Abendessen", "es": "con la cena",
           "it": "a cena", "pt": "ao jantar", "nl": "bij het avondeten", "pl": "podczas kolacji"},
    "AC": {"en": "before meals", "fr": "avant les repas", "de": "vor den Mahlzeiten", "es": "antes de las comidas",
           "it": "prima dei pasti", "pt": "antes das refeições", "nl": "voor de maaltijd", "pl": "przed posiłkami"},
    "ACM": {"en": "before breakfast", "fr": "avant le petit-déjeuner", "de": "vor dem Frühstück",
            "es": "antes del desayuno", "it": "prima di colazione", "pt": "antes do pequeno-almoço",
            "nl": "voor het ontbijt", "pl": "przed śniadaniem"},
    "ACD": {"en": "before lunch", "fr": "avant le déjeuner", "de": "vor dem Mittagessen", "es": "antes del almuerzo",
            "it": "prima di pranzo", "pt": "antes do almoço", "nl": "voor de lunch", "pl": "przed obiadem"},
    "ACV": {"en": "before the evening meal", "fr": "avant le dîner", "de": "vor dem Abendessen",
            "es": "antes de la cena", "it": "prima di cena", "pt": "antes do jantar", "nl": "voor het avondeten",
            "pl": "przed kolacją"},
    "PC": {"en": "after meals", "fr": "après les repas", "de": "nach den Mahlzeiten", "es": "después de las comidas",
           "it": "dopo i pasti", "pt": "depois das refeições", "nl": "na de maaltijd", "pl": "po posiłkach"},
    "PCM": {"en": "after breakfast", "fr": "après le petit-déjeuner", "de": "nach dem Frühstück",
            "es": "después del desayuno", "it": "dopo colazione", "pt": "depois do pequeno-almoço",
            "nl": "na het ontbijt", "pl": "po śniadaniu"},
    "PCD": {"en": "after lunch", "fr": "après le déjeuner", "de": "nach dem Mittagessen", "es": "después del almuerzo",
            "it": "dopo pranzo", "pt": "depois do almoço", "nl": "na de lunch", "pl": "po obiedzie"},
    "PCV": {"en": "after the evening meal", "fr": "après le dîner", "de": "nach dem Abendessen",
            "es": "después de la cena", "it": "dopo cena", "pt": "depois do jantar", "nl": "na het avondeten",
            "pl": "po kolacji"},
}

AT_TIME = {"en": "at {t}", "fr": "à {t}", "de": "um {t}", "es": "a las {t}", "it": "alle {t}", "pt": "às {t}",
           "nl": "om {t}", "pl": "o {t}"}
FOR = {"en": "for {d}", "fr": "pendant {d}", "de": "für {d}", "es": "durante {d}", "it": "per {d}",
       "pt": "durante {d}", "nl": "gedurende {d}", "pl": "przez {d}"}
FOR_AT_MOST = {"en": "for at most {d}", "fr": "pendant {d} au maximum", "de": "für höchstens {d}",
               "es": "durante {d} como máximo", "it": "per {d} al massimo", "pt": "durante {d} no máximo",
               "nl": "gedurende maximaal {d}", "pl": "przez maksymalnie {d}"}
FROM_TO = {"en": "from {a} to {b}", "fr": "du {a} au {b}", "de": "vom {a} bis {b}", "es": "del {a} al {b}",
           "it": "dal {a} al {b}", "pt": "de {a} a {b}", "nl": "van {a} tot {b}", "pl": "od {a} do {b}"}
FROM = {"en": "from {a}", "fr": "à partir du {a}", "de": "ab {a}", "es": "desde el {a}", "it": "dal {a}",
        "pt": "a partir de {a}", "nl": "vanaf {a}", "pl": "od {a}"}
UNTIL = {"en": "until {b}", "fr": "jusqu'au {b}", "de": "bis {b}", "es": "hasta el {b}", "it": "fino al {b}",
         "pt": "até {b}", "nl": "tot {b}", "pl": "do {b}"}
OVER = {"en": "over {d}", "fr": "en {d}", "de": "über {d}", "es": "en {d}", "it": "in {d}", "pt": "durante {d}",
        "nl": "in {d}", "pl": "w ciągu {d}"}
COUNT = {"en": "number of doses: {n}", "fr": "nombre de prises : {n}", "de": "Anzahl der Gaben: {n}",
         "es": "número de dosis: {n}", "it": "numero di dosi: {n}", "pt": "número de doses: {n}",
         "nl": "aantal doses: {n}", "pl": "liczba dawek: {n}"}
AS_NEEDED = {"en": "as needed", "fr": "si besoin", "de": "bei Bedarf", "es": "si es necesario", "it": "al bisogno",
             "pt": "se necessário", "nl": "zo nodig", "pl": "w razie potrzeby"}
MAX_PER = {"en": "max. {q} {per}", "fr": "max. {q} {per}", "de": "max. {q} {per}", "es": "máx. {q} {per}",
           "it": "max. {q} {per}", "pt": "máx. {q} {per}", "nl": "max. {q} {per}", "pl": "maks. {q} {per}"}
PER_DURATION = {"en": "per {d}", "fr": "par {d}", "de": "pro {d}", "es": "por {d}", "it": "per {d}", "pt": "por {d}",
                "nl": "per {d}", "pl": "na {d}"}
RATE = {"en": "rate {q}", "fr": "débit {q}", "de": "Rate {q}", "es": "velocidad {q}", "it": "velocità {q}",
        "pt": "velocidade {q}", "nl": "snelheid {q}", "pl": "szybkość {q}"}
RANGE = {"en": "{a} to {b}", "fr": "{a} à {b}", "de": "{a} bis {b}", "es": "{a} a {b}", "it": "da {a} a {b}",
         "pt": "{a} a {b}", "nl": "{a} tot {b}", "pl": "{a}–{b}"}

#: HL7 v3 GTSAbbreviation codes (Timing.code) as (frequency, period, unit) or an EventTiming code
TIMING_CODES: dict[str, tuple[int, int, str] | str] = {
    "QD": (1, 1, "d"), "BID": (2, 1, "d"), "TID": (3, 1, "d"), "QID": (4, 1, "d"), "QOD": (1, 2, "d"),
    "Q1H": (1, 1, "h"), "Q2H": (1, 2, "h"), "Q3H": (1, 3, "h"), "Q4H": (1, 4, "h"), "Q6H": (1, 6, "h"),
    "Q8H": (1, 8, "h"), "WK": (1, 1, "wk"), "MO": (1, 1, "mo"), "AM": "MORN", "PM": "AFT",
}
