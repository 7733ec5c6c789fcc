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
        "blood_group_panel": "Groupe sanguin ABO et rhésus", "blood_pressure": "Pression artérielle",
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
        "blood_group_panel": "AB0-Blutgruppe und Rhesusfaktor", "blood_pressure": "Blutdruck",
    },
    "it": {
        "title": "Profilo sanitario sintetico",
        "allergies": "Allergie e intolleranze",
        "medications": "Terapie",
        "problems": "Problemi attivi",
        "immunizations": "Vaccinazioni",
        "procedures": "Interventi e procedure",
        "results": "Risultati di esami",
        "vital_signs": "Parametri vitali",
        "devices": "Dispositivi medici e impianti",
        "past_illness": "Anamnesi patologica remota",
        "plan_of_care": "Piano di cura",
        "pregnancy": "Gravidanza",
        "social_history": "Stile di vita",
        "h_agent": "Agente", "h_reaction": "Reazione", "h_criticality": "Criticità", "h_since": "Dal",
        "h_medication": "Farmaco", "h_dosage": "Posologia", "h_start": "Inizio",
        "h_problem": "Problema", "h_status": "Stato", "h_onset": "Insorgenza", "h_end": "Fine",
        "h_vaccine": "Vaccino", "h_dose": "Dose", "h_date": "Data", "h_procedure": "Procedura",
        "h_test": "Esame", "h_value": "Valore", "h_range": "Valori di riferimento", "h_device": "Dispositivo",
        "h_item": "Voce", "h_plan": "Piano",
        "active": "attivo", "resolved": "risolto", "inactive": "inattivo", "remission": "in remissione",
        "low": "bassa", "high": "alta", "unknown": "sconosciuta",
        "pregnant": "In gravidanza", "not_pregnant": "Nessuna gravidanza in corso", "edd": "Data presunta del parto",
        "outcome": "Esito di gravidanza precedente",
        "never_smoked": "Non ha mai fumato", "ex_smoker": "Ex fumatore", "smoker": "Fumatore",
        "drinks": "bicchieri al giorno",
        "no-known-allergies": "Nessuna allergia nota",
        "no-allergy-info": "Nessuna informazione sulle allergie",
        "no-known-medications": "Nessuna terapia in corso",
        "no-medication-info": "Nessuna informazione sulle terapie",
        "no-known-problems": "Nessun problema di salute noto",
        "no-problem-info": "Nessuna informazione sui problemi di salute",
        "plan_generic": "Visita di controllo annuale dal medico di medicina generale.",
        "plan_diabetes": "Controllo diabetologico trimestrale, HbA1c ogni 3 mesi, fundus oculi annuale.",
        "plan_cardio": "Controllo cardiologico semestrale, automisurazione della pressione arteriosa a domicilio.",
        "plan_renal": "Controllo della funzionalità renale (creatinina, eGFR) ogni 6 mesi.",
        "plan_respiratory": "Rivalutazione della terapia inalatoria e spirometria annuale.",
        "plan_oncology": "Follow-up oncologico: visita e diagnostica per immagini ogni 6 mesi.",
        "plan_pregnancy": "Controlli mensili della gravidanza, ecografia del terzo trimestre programmata.",
        "plan_mental": "Controllo psichiatrico mensile, rivalutazione della terapia a 3 mesi.",
        "plan_anticoag": "Controllo dell'INR ogni 4 settimane (intervallo terapeutico 2–3).",
        "blood_group_panel": "Gruppo sanguigno AB0 e fattore Rh", "blood_pressure": "Pressione arteriosa",
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

# --------------------------------------------------------------------------------------------
# Italy
# --------------------------------------------------------------------------------------------

#: surnames; the generator keeps the first surname of each codice fiscale surname code (3 letters), so
#: that the codice fiscale stays unique (see ``synthetic.identity``)
IT_FAMILY = (
    "Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci", "Marino", "Greco",
    "Bruno", "Gallo", "Conti", "De Luca", "Mancini", "Costa", "Giordano", "Rizzo", "Lombardi", "Moretti",
    "Barbieri", "Fontana", "Santoro", "Mariani", "Rinaldi", "Caruso", "Ferrara", "Galli", "Martini", "Leone",
    "Longo", "Gentile", "Martinelli", "Vitale", "Lombardo", "Serra", "Coppola", "De Santis", "D'Angelo",
    "Marchetti", "Parisi", "Villa", "Conte", "Ferraro", "Ferri", "Fabbri", "Bianco", "Marini", "Grasso",
    "Valentini", "Messina", "Sala", "De Angelis", "Gatti", "Pellegrini", "Palumbo", "Sanna", "Farina",
    "Rizzi", "Monti", "Cattaneo", "Morelli", "Amato", "Silvestri", "Mazza", "Testa", "Grassi", "Pellegrino",
    "Carbone", "Giuliani", "Benedetti", "Barone", "Rossetti", "Caputo", "Montanari", "Guerra", "Palmieri",
    "Bernardi", "Martino", "Fiore", "De Rosa", "Ferretti", "Bellini", "Basile", "Riva", "Donati", "Piras",
    "Vitali", "Battaglia", "Sartori", "Neri", "Costantini", "Milani", "Pagano", "Ruggiero", "Sorrentino",
    "D'Amico", "Orlando", "Damico", "Negri", "Lo Russo", "Della Valle", "Di Stefano", "Cocco", "Melis",
    "Zanetti", "Pozzi", "Brambilla", "Cozzolino", "Fumagalli", "Cirillo", "Bonetti", "Piccolo", "Marras",
    "Ventura", "Bassi", "Toscano", "Sacco", "Ferrero", "Deiana", "Nicolosi", "Zappalà", "Dell'Acqua",
    "Pace", "Marchi", "Tedesco", "Gualtieri", "Ianni", "Oliveri", "Zhou", "Hoxha", "Popescu", "El Amrani",
)
IT_MALE = (
    "Giuseppe", "Giovanni", "Antonio", "Mario", "Francesco", "Luigi", "Angelo", "Vincenzo", "Pietro",
    "Salvatore", "Carlo", "Franco", "Domenico", "Bruno", "Paolo", "Michele", "Giorgio", "Aldo", "Sergio",
    "Luciano", "Marco", "Andrea", "Alessandro", "Stefano", "Roberto", "Massimo", "Fabio", "Davide", "Matteo",
    "Lorenzo", "Leonardo", "Riccardo", "Tommaso", "Edoardo", "Gabriele", "Federico", "Simone", "Emanuele",
    "Nicolò", "Raffaele", "Gianluca", "Gian Marco", "Pierluigi", "Gianfranco", "Cristian", "Enrico",
    "Alberto", "Diego", "Samuele", "Elia",
)
IT_FEMALE = (
    "Maria", "Anna", "Giuseppina", "Rosa", "Angela", "Giovanna", "Teresa", "Lucia", "Carmela", "Caterina",
    "Francesca", "Antonietta", "Carla", "Elena", "Paola", "Laura", "Rita", "Luisa", "Silvia", "Daniela",
    "Barbara", "Roberta", "Monica", "Cristina", "Simona", "Valentina", "Chiara", "Federica", "Alessandra",
    "Sara", "Giulia", "Martina", "Sofia", "Aurora", "Alice", "Ginevra", "Emma", "Giorgia", "Beatrice",
    "Greta", "Noemi", "Ilaria", "Elisa", "Marta", "Maria Grazia", "Anna Maria", "Maria Teresa",
    "Rosaria", "Concetta", "Nicoletta",
)

#: birthplaces: (Belfiore cadastral code of the comune, or Z + country code when born abroad; name)
IT_BIRTHPLACES: tuple[tuple[str, str], ...] = (
    ("H501", "Roma"), ("F205", "Milano"), ("F839", "Napoli"), ("L219", "Torino"), ("G273", "Palermo"),
    ("D969", "Genova"), ("A944", "Bologna"), ("D612", "Firenze"), ("A662", "Bari"), ("C351", "Catania"),
    ("L736", "Venezia"), ("L781", "Verona"), ("F158", "Messina"), ("G224", "Padova"), ("L424", "Trieste"),
    ("B157", "Brescia"), ("L049", "Taranto"), ("G337", "Parma"), ("F257", "Modena"),
    ("H224", "Reggio di Calabria"), ("H223", "Reggio nell'Emilia"), ("G478", "Perugia"), ("E625", "Livorno"),
    ("H199", "Ravenna"), ("B354", "Cagliari"), ("D643", "Foggia"), ("H294", "Rimini"), ("H703", "Salerno"),
    ("D548", "Ferrara"), ("I452", "Sassari"), ("E472", "Latina"), ("F704", "Monza"), ("I754", "Siracusa"),
    ("G482", "Pescara"), ("A794", "Bergamo"), ("L840", "Vicenza"), ("L378", "Trento"), ("A952", "Bolzano"),
    ("F952", "Novara"), ("G535", "Piacenza"), ("A271", "Ancona"), ("L483", "Udine"), ("A390", "Arezzo"),
    ("E506", "Lecce"), ("G702", "Pisa"), ("C933", "Como"), ("L407", "Treviso"), ("C352", "Catanzaro"),
    ("G942", "Potenza"), ("B519", "Campobasso"), ("A345", "L'Aquila"), ("A326", "Aosta"),
    ("D086", "Cosenza"), ("I726", "Siena"), ("L682", "Varese"), ("G388", "Pavia"), ("A783", "Benevento"),
    ("A509", "Avellino"), ("B963", "Caserta"), ("L331", "Trapani"), ("A089", "Agrigento"),
    # born abroad: Z + ISTAT country code
    ("Z112", "Germania"), ("Z110", "Francia"), ("Z133", "Svizzera"), ("Z129", "Romania"), ("Z100", "Albania"),
    ("Z330", "Marocco"), ("Z600", "Argentina"), ("Z114", "Regno Unito"), ("Z131", "Spagna"),
)
IT_STREETS = (
    "Via Roma", "Via Garibaldi", "Corso Vittorio Emanuele II", "Via Mazzini", "Via Dante Alighieri",
    "Viale della Repubblica", "Via Giuseppe Verdi", "Via Cavour", "Via XX Settembre", "Via Guglielmo Marconi",
    "Via dei Mille", "Piazza della Libertà", "Via San Francesco d'Assisi", "Via delle Rose",
)
IT_CITIES = (
    ("00184", "Roma"), ("20121", "Milano"), ("80134", "Napoli"), ("10121", "Torino"), ("90133", "Palermo"),
    ("16121", "Genova"), ("40121", "Bologna"), ("50122", "Firenze"), ("70121", "Bari"), ("95124", "Catania"),
    ("30121", "Venezia"), ("37121", "Verona"), ("35122", "Padova"), ("34121", "Trieste"), ("09124", "Cagliari"),
    ("06121", "Perugia"), ("60121", "Ancona"), ("38122", "Trento"),
)
IT_ORGS = (
    "Azienda Ospedaliero-Universitaria di {city}", "Studio medico Dott. {family}", "Casa della Comunità di {city}",
    "Ospedale Civile di {city}", "Poliambulatorio ASL di {city}",
)
