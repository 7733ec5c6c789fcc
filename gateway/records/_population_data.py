"""National identity data for the synthetic population: names, birthplaces, addresses, texts.

Plain Python data (no I/O). Clinical codes are *not* here: they come from
``terminology.catalogue`` so the generator and the terminology always agree.
"""

from __future__ import annotations

# --------------------------------------------------------------------------------------------
# France
# --------------------------------------------------------------------------------------------

FR_FAMILY = (
    "Martin", "Bernard", "Thomas", "Petit", "Robert", "Richard", "Durand", "Dubois", "Moreau", "Laurent",
    "Simon", "Michel", "Lefèvre", "Leroy", "Roux", "David", "Bertrand", "Morel", "Fournier", "Girard",
    "Bonnet", "Dupont", "Lambert", "Fontaine", "Rousseau", "Vincent", "Müller", "Lefebvre", "Faure", "André",
    "Mercier", "Blanc", "Guérin", "Boyer", "Garnier", "Chevalier", "François", "Legrand", "Gauthier", "Garcia",
    "Perrin", "Robin", "Clément", "Morin", "Nicolas", "Henry", "Roussel", "Mathieu", "Gautier", "Masson",
    "Marchand", "Duval", "Denis", "Dumont", "Marie", "Lemaire", "Noël", "Meyer", "Dufour", "Meunier",
    "Brun", "Blanchard", "Giraud", "Joly", "Rivière", "Lucas", "Brunet", "Gaillard", "Barbier", "Arnaud",
    "Martinez", "Gérard", "Roche", "Renard", "Schmitt", "Roy", "Leroux", "Colin", "Vidal", "Caron",
    "Picard", "Roger", "Fabre", "Aubert", "Lemoine", "Renaud", "Dumas", "Lacroix", "Olivier", "Philippe",
    "Bourgeois", "Pierre", "Benoît", "Rey", "Leclerc", "Payet", "Rolland", "Leclercq", "Guillaume", "Lecomte",
    "N'Diaye", "Le Gall", "Le Goff", "Da Silva", "Nguyen", "Benali", "Haddad", "De La Fontaine", "Kerbrat",
    "Santoni", "Casanova", "Hoarau", "Grondin", "Étienne", "Cœur",
)
FR_MALE = (
    "Jean", "Pierre", "Michel", "André", "Philippe", "Alain", "Jacques", "Bernard", "René", "Louis",
    "François", "Daniel", "Patrick", "Nicolas", "Christophe", "Stéphane", "Julien", "Sébastien", "David",
    "Laurent", "Éric", "Frédéric", "Thomas", "Olivier", "Antoine", "Maxime", "Alexandre", "Hugo", "Lucas",
    "Théo", "Nathan", "Léo", "Gabriel", "Raphaël", "Arthur", "Louis-Marie", "Jean-Pierre", "Jean-Luc",
    "Noé", "Mathis", "Enzo", "Gaëtan", "Benoît", "Joël", "Mohamed", "Yanis", "Adam", "Paul", "Marcel", "Henri",
)
FR_FEMALE = (
    "Marie", "Jeanne", "Françoise", "Monique", "Catherine", "Nathalie", "Isabelle", "Sylvie", "Anne",
    "Christine", "Martine", "Valérie", "Sandrine", "Stéphanie", "Céline", "Julie", "Aurélie", "Émilie",
    "Camille", "Laura", "Manon", "Léa", "Chloé", "Emma", "Jade", "Louise", "Alice", "Inès", "Zoé", "Hélène",
    "Élodie", "Margaux", "Agnès", "Geneviève", "Bérénice", "Anne-Sophie", "Marie-Claire", "Maëlle", "Noémie",
    "Clémence", "Océane", "Yasmine", "Fatima", "Lucie", "Mathilde", "Pauline", "Odile", "Brigitte", "Colette",
    "Josiane",
)

# Birthplaces: (INSEE code, name). Paris, Lyon and Marseille births carry their arrondissement code.
FR_BIRTHPLACES: tuple[tuple[str, str], ...] = (
    *((f"751{n:02d}", f"Paris {n}e arrondissement" if n > 1 else "Paris 1er arrondissement") for n in range(1, 21)),
    *((f"6938{n}", f"Lyon {n}e arrondissement" if n > 1 else "Lyon 1er arrondissement") for n in range(1, 10)),
    *((f"132{n:02d}", f"Marseille {n}e arrondissement" if n > 1 else "Marseille 1er arrondissement")
      for n in range(1, 17)),
    ("31555", "Toulouse"), ("06088", "Nice"), ("44109", "Nantes"), ("67482", "Strasbourg"),
    ("34172", "Montpellier"), ("33063", "Bordeaux"), ("59350", "Lille"), ("35238", "Rennes"),
    ("51454", "Reims"), ("76351", "Le Havre"), ("42218", "Saint-Étienne"), ("83137", "Toulon"),
    ("38185", "Grenoble"), ("21231", "Dijon"), ("49007", "Angers"), ("30189", "Nîmes"),
    ("63113", "Clermont-Ferrand"), ("87085", "Limoges"), ("37261", "Tours"), ("80021", "Amiens"),
    ("57463", "Metz"), ("25056", "Besançon"), ("29019", "Brest"), ("45234", "Orléans"), ("14118", "Caen"),
    ("64445", "Pau"), ("66136", "Perpignan"), ("54395", "Nancy"), ("86194", "Poitiers"),
    ("17300", "La Rochelle"), ("68224", "Mulhouse"), ("76540", "Rouen"), ("72181", "Le Mans"),
    ("29232", "Quimper"), ("56260", "Vannes"), ("64102", "Bayonne"), ("65440", "Tarbes"), ("81004", "Albi"),
    ("24322", "Périgueux"), ("19272", "Tulle"), ("15014", "Aurillac"), ("03185", "Montluçon"),
    ("71076", "Chalon-sur-Saône"), ("74010", "Annecy"), ("73065", "Chambéry"), ("05061", "Gap"),
    ("84007", "Avignon"), ("13001", "Aix-en-Provence"), ("11069", "Carcassonne"), ("09122", "Foix"),
    ("2A004", "Ajaccio"), ("2B033", "Bastia"),  # Corsica: department 20 for births before 1976
    ("97411", "Saint-Denis (La Réunion)"), ("97209", "Fort-de-France"), ("97120", "Pointe-à-Pitre"),
    ("97302", "Cayenne"),
    # born abroad: 99 + INSEE country code
    ("99109", "Allemagne"), ("99127", "Italie"), ("99134", "Espagne"), ("99139", "Portugal"),
    ("99131", "Belgique"), ("99350", "Maroc"), ("99352", "Algérie"), ("99351", "Tunisie"),
    ("99132", "Royaume-Uni"), ("99140", "Suisse"),
)
FR_STREETS = (
    "rue de la République", "avenue Jean Jaurès", "rue Victor Hugo", "boulevard Gambetta", "rue Pasteur",
    "place de l'Église", "rue du Général de Gaulle", "allée des Tilleuls", "chemin des Vignes",
    "rue Émile Zola", "impasse des Lilas", "avenue de la Gare", "rue des Écoles", "quai Saint-Michel",
)
FR_CITIES = (
    ("75011", "Paris"), ("69003", "Lyon"), ("13005", "Marseille"), ("31000", "Toulouse"), ("06000", "Nice"),
    ("44000", "Nantes"), ("67000", "Strasbourg"), ("34000", "Montpellier"), ("33000", "Bordeaux"),
    ("59000", "Lille"), ("35000", "Rennes"), ("21000", "Dijon"), ("29200", "Brest"), ("20000", "Ajaccio"),
    ("97400", "Saint-Denis"), ("63000", "Clermont-Ferrand"), ("87000", "Limoges"), ("74000", "Annecy"),
)
FR_ORGS = (
    "Centre hospitalier universitaire de {city}", "Maison de santé pluriprofessionnelle de {city}",
    "Cabinet médical du Dr {family}", "Centre de santé municipal de {city}", "Clinique Saint-Joseph ({city})",
)

# --------------------------------------------------------------------------------------------
# Germany
# --------------------------------------------------------------------------------------------

DE_FAMILY = (
    "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz", "Hoffmann",
    "Schäfer", "Koch", "Bauer", "Richter", "Klein", "Wolf", "Schröder", "Neumann", "Schwarz", "Zimmermann",
    "Braun", "Krüger", "Hofmann", "Hartmann", "Lange", "Schmitt", "Werner", "Schmitz", "Krause", "Meier",
    "Lehmann", "Schmid", "Schulze", "Maier", "Köhler", "Herrmann", "König", "Walter", "Mayer", "Huber",
    "Kaiser", "Fuchs", "Peters", "Lang", "Scholz", "Möller", "Weiß", "Jung", "Hahn", "Schubert",
    "Vogel", "Friedrich", "Keller", "Günther", "Frank", "Berger", "Winkler", "Roth", "Beck", "Lorenz",
    "Baumann", "Franke", "Albrecht", "Schuster", "Simon", "Ludwig", "Böhm", "Winter", "Kraus", "Martin",
    "von Bülow", "Yılmaz", "Kowalski", "Nowak", "Öztürk", "Papadopoulos", "Straßburger", "Groß", "Jäger",
    "Ahrens", "Janßen", "Brandt", "Haas", "Sommer", "Graf", "Dietrich", "Engel", "Kühn", "Pohl", "Voigt",
)
DE_MALE = (
    "Peter", "Michael", "Thomas", "Andreas", "Wolfgang", "Klaus", "Jürgen", "Günter", "Stefan", "Christian",
    "Uwe", "Werner", "Horst", "Frank", "Dieter", "Manfred", "Gerhard", "Hans", "Bernd", "Torsten",
    "Markus", "Matthias", "Sven", "Jörg", "Alexander", "Florian", "Tobias", "Jonas", "Lukas", "Leon",
    "Finn", "Elias", "Noah", "Paul", "Ben", "Maximilian", "Felix", "Moritz", "Karl-Heinz", "Hans-Peter",
    "Björn", "Sören", "Mehmet", "Emil", "Anton", "Jan", "Niklas", "Tim", "Fritz", "Ralf",
)
DE_FEMALE = (
    "Ursula", "Monika", "Petra", "Sabine", "Renate", "Helga", "Karin", "Brigitte", "Ingrid", "Gabriele",
    "Andrea", "Claudia", "Susanne", "Birgit", "Stefanie", "Nicole", "Katrin", "Julia", "Anna", "Lena",
    "Laura", "Sarah", "Lisa", "Hannah", "Emma", "Mia", "Sophie", "Marie", "Lea", "Johanna",
    "Charlotte", "Greta", "Frieda", "Jana", "Anja", "Daniela", "Jutta", "Gisela", "Hildegard", "Erika",
    "Annegret", "Anne-Marie", "Jördis", "Bärbel", "Käthe", "Ayşe", "Elif", "Lina", "Clara", "Ida",
)
DE_BIRTHPLACES = (
    "Berlin", "Hamburg", "München", "Köln", "Frankfurt am Main", "Stuttgart", "Düsseldorf", "Leipzig",
    "Dortmund", "Essen", "Bremen", "Dresden", "Hannover", "Nürnberg", "Duisburg", "Bochum", "Wuppertal",
    "Bielefeld", "Bonn", "Münster", "Mannheim", "Karlsruhe", "Augsburg", "Wiesbaden", "Mönchengladbach",
    "Gelsenkirchen", "Aachen", "Braunschweig", "Kiel", "Chemnitz", "Halle (Saale)", "Magdeburg",
    "Freiburg im Breisgau", "Krefeld", "Mainz", "Lübeck", "Erfurt", "Rostock", "Kassel", "Saarbrücken",
    "Potsdam", "Würzburg", "Regensburg", "Göttingen", "Osnabrück", "Jena", "Schwerin", "Görlitz",
    "İstanbul", "Kraków", "Thessaloniki", "Wien", "Zürich",
)
DE_STREETS = (
    "Hauptstraße", "Schulstraße", "Gartenstraße", "Bahnhofstraße", "Dorfstraße", "Bergstraße", "Birkenweg",
    "Lindenstraße", "Kirchstraße", "Waldstraße", "Ringstraße", "Schillerstraße", "Goethestraße",
    "Am Mühlbach", "Friedrich-Ebert-Straße",
)
DE_CITIES = (
    ("10115", "Berlin"), ("20095", "Hamburg"), ("80331", "München"), ("50667", "Köln"),
    ("60311", "Frankfurt am Main"), ("70173", "Stuttgart"), ("40213", "Düsseldorf"), ("04109", "Leipzig"),
    ("01067", "Dresden"), ("30159", "Hannover"), ("90402", "Nürnberg"), ("28195", "Bremen"),
    ("53111", "Bonn"), ("48143", "Münster"), ("24103", "Kiel"), ("18055", "Rostock"), ("99084", "Erfurt"),
)
DE_ORGS = (
    "Universitätsklinikum {city}", "Hausarztpraxis Dr. {family}", "Medizinisches Versorgungszentrum {city}",
    "Städtisches Klinikum {city}", "Gemeinschaftspraxis {family} & Partner",
)

# --------------------------------------------------------------------------------------------
# Texts of the summaries (section titles, table headers, words), per language
# --------------------------------------------------------------------------------------------

TEXTS: dict[str, dict[str, str]] = {
    "fr": {
        "title": "Synthèse médicale du patient",
        "allergies": "Allergies et intolérances",
        "medications": "Traitements en cours",
        "problems": "Problèmes de santé actifs",
        "immunizations": "Vaccinations",
        "procedures": "Actes et interventions",
        "results": "Résultats d'examens",
        "vital_signs": "Signes vitaux",
        "devices": "Dispositifs médicaux et implants",
        "past_illness": "Antécédents médicaux",
        "plan_of_care": "Plan de soins",
        "pregnancy": "Grossesse",
        "social_history": "Mode de vie",
        "h_agent": "Agent", "h_reaction": "Réaction", "h_criticality": "Criticité", "h_since": "Depuis",
        "h_medication": "Médicament", "h_dosage": "Posologie", "h_start": "Début",
        "h_problem": "Problème", "h_status": "Statut", "h_onset": "Début", "h_end": "Fin",
        "h_vaccine": "Vaccin", "h_dose": "Dose", "h_date": "Date", "h_procedure": "Acte",
        "h_test": "Examen", "h_value": "Valeur", "h_range": "Valeurs de référence", "h_device": "Dispositif",
        "h_item": "Élément", "h_plan": "Plan",
        "active": "actif", "resolved": "guéri", "inactive": "inactif", "remission": "en rémission",
        "low": "faible", "high": "élevée", "unknown": "inconnue",
        "pregnant": "Enceinte", "not_pregnant": "Pas de grossesse en cours", "edd": "Date prévue d'accouchement",
        "outcome": "Issue de grossesse antérieure",
        "never_smoked": "N'a jamais fumé", "ex_smoker": "Ancien fumeur", "smoker": "Fumeur",
        "drinks": "verres par jour",
        "no-known-allergies": "Aucune allergie connue", "no-allergy-info": "Pas d'information sur les allergies",
        "no-known-medications": "Aucun traitement en cours",
        "no-medication-info": "Pas d'information sur les traitements",
        "no-known-problems": "Aucun problème de santé connu",
        "no-problem-info": "Pas d'information sur les problèmes de santé",
        "plan_generic": "Consultation de suivi annuelle chez le médecin traitant.",
        "plan_diabetes": "Suivi diabétologique trimestriel, HbA1c tous les 3 mois, fond d'œil annuel.",
        "plan_cardio": "Suivi cardiologique semestriel, contrôle de la pression artérielle à domicile.",
        "plan_renal": "Surveillance de la fonction rénale (créatinine, DFG) tous les 6 mois.",
        "plan_respiratory": "Réévaluation du traitement inhalé et EFR annuelle.",
        "plan_oncology": "Surveillance oncologique : consultation et imagerie tous les 6 mois.",
        "plan_pregnancy": "Suivi de grossesse mensuel, échographie du 3e trimestre programmée.",
        "plan_mental": "Suivi psychiatrique mensuel, réévaluation du traitement à 3 mois.",
        "plan_anticoag": "Contrôle de l'INR toutes les 4 semaines (objectif 2–3).",
    },
    "de": {
        "title": "Patientenkurzakte",
        "allergies": "Allergien und Unverträglichkeiten",
        "medications": "Aktuelle Medikation",
        "problems": "Aktuelle Probleme und Diagnosen",
        "immunizations": "Impfungen",
        "procedures": "Eingriffe und Prozeduren",
        "results": "Untersuchungsergebnisse",
        "vital_signs": "Vitalzeichen",
        "devices": "Medizinprodukte und Implantate",
        "past_illness": "Frühere Erkrankungen",
        "plan_of_care": "Behandlungsplan",
        "pregnancy": "Schwangerschaft",
        "social_history": "Sozialanamnese",
        "h_agent": "Auslöser", "h_reaction": "Reaktion", "h_criticality": "Kritikalität", "h_since": "Seit",
        "h_medication": "Arzneimittel", "h_dosage": "Dosierung", "h_start": "Beginn",
        "h_problem": "Problem", "h_status": "Status", "h_onset": "Beginn", "h_end": "Ende",
        "h_vaccine": "Impfstoff", "h_dose": "Dosis", "h_date": "Datum", "h_procedure": "Eingriff",
        "h_test": "Untersuchung", "h_value": "Wert", "h_range": "Referenzbereich", "h_device": "Medizinprodukt",
        "h_item": "Merkmal", "h_plan": "Plan",
        "active": "aktiv", "resolved": "abgeklungen", "inactive": "inaktiv", "remission": "in Remission",
        "low": "niedrig", "high": "hoch", "unknown": "unbekannt",
        "pregnant": "Schwanger", "not_pregnant": "Keine Schwangerschaft", "edd": "Errechneter Geburtstermin",
        "outcome": "Ausgang früherer Schwangerschaft",
        "never_smoked": "Nie geraucht", "ex_smoker": "Ehemaliger Raucher", "smoker": "Raucher",
        "drinks": "Getränke pro Tag",
        "no-known-allergies": "Keine bekannten Allergien",
        "no-allergy-info": "Keine Informationen über Allergien",
        "no-known-medications": "Keine aktuelle Medikation",
        "no-medication-info": "Keine Informationen über Medikation",
        "no-known-problems": "Keine bekannten Probleme",
        "no-problem-info": "Keine Informationen über Probleme",
        "plan_generic": "Jährliche Kontrolluntersuchung beim Hausarzt.",
        "plan_diabetes": "Quartalsweise diabetologische Kontrolle, HbA1c alle 3 Monate, jährliche Augenuntersuchung.",
        "plan_cardio": "Halbjährliche kardiologische Kontrolle, Blutdruckselbstmessung zu Hause.",
        "plan_renal": "Kontrolle der Nierenfunktion (Kreatinin, eGFR) alle 6 Monate.",
        "plan_respiratory": "Überprüfung der Inhalationstherapie und jährliche Lungenfunktionsprüfung.",
        "plan_oncology": "Onkologische Nachsorge: Kontrolle und Bildgebung alle 6 Monate.",
        "plan_pregnancy": "Monatliche Schwangerschaftsvorsorge, Ultraschall im 3. Trimester geplant.",
        "plan_mental": "Monatliche psychiatrische Betreuung, Überprüfung der Therapie nach 3 Monaten.",
        "plan_anticoag": "INR-Kontrolle alle 4 Wochen (Zielbereich 2–3).",
    },
}

#: ICD-10 prefixes -> plan-of-care text key
PLAN_BY_ICD10: tuple[tuple[str, str], ...] = (
    ("E10", "plan_diabetes"), ("E11", "plan_diabetes"), ("E13", "plan_diabetes"), ("E14", "plan_diabetes"),
    ("I10", "plan_cardio"), ("I11", "plan_cardio"), ("I20", "plan_cardio"), ("I25", "plan_cardio"),
    ("I50", "plan_cardio"), ("I48", "plan_anticoag"), ("N18", "plan_renal"), ("J44", "plan_respiratory"),
    ("J45", "plan_respiratory"), ("C", "plan_oncology"), ("F3", "plan_mental"), ("F2", "plan_mental"),
    ("F4", "plan_mental"),
)
