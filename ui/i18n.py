"""The interface in English or Hungarian: ``t("English text")`` gives the text in the language the
sidebar's "Interface" switch chose. English is the key; a text without a Hungarian entry shows in
English. Templates keep their ``{placeholders}``: ``t("Done {done}").format(done=3)``. Messages
raised by the core stay English."""

from __future__ import annotations

HU = {
    # the shell
    "Work": "Munka",
    "Set-up": "Beállítás",
    "Start": "Kezdőlap",
    "Annotate": "Címkézés",
    "Training data": "Tanítóadat",
    "Bulk classify": "Tömeges besorolás",
    "Performance": "Teljesítmény",
    "Taxonomies": "Osztályozási rendszerek",
    "Models": "Modellek",
    "Import": "Importálás",
    "Who is working": "Ki dolgozik",
    "Your name": "Az Ön neve",
    "Role": "Szerepkör",
    "Active taxonomy": "Aktív osztályozási rendszer",
    "Names in": "Nevek nyelve",
    "Interface": "Felület nyelve",
    "e.g. Kovács Anna": "pl. Kovács Anna",
    "Domain expert": "Szakértő",
    "Librarian": "Könyvtáros",
    "Team lead": "Csoportvezető",
    # the start page
    "Subject classification workbench": "Tárgyszó-besoroló munkapad",
    "Suggests subject codes for bibliographic records from two schemes, the OECD **FORD** fields of science and "
    "the **CAP** policy topics, lets experts correct them, and turns every correction into training data for a "
    "better model, measured before and after.":
        "Tárgykódokat javasol bibliográfiai rekordokhoz két rendszerből (az OECD **FORD** tudományterületei és a "
        "**CAP** szakpolitikai témák), a szakértők javíthatják őket, és minden javításból tanítóadat lesz egy jobb "
        "modellhez, amelynek javulását előtte és utána is mérjük.",
    "Every label records who made it. The same field is in the sidebar.":
        "Minden címke rögzíti, ki adta. Ugyanez a mező az oldalsávban is megvan.",
    "Where each role starts": "Hol kezdjenek az egyes szerepkörök",
    "Work through a queue of records: accept a suggestion, correct it in the hierarchy browser, or reject it. "
    "Every action is kept, with who made it and what was shown.":
        "Rekordok sorát dolgozza fel: elfogad egy javaslatot, javítja a hierarchiaböngészőben, vagy elutasítja. "
        "Minden lépés megmarad, azzal együtt, hogy ki tette és mit látott.",
    "Classify a file of bibliographic records (tens or hundreds of thousands of rows) in the background; download "
    "the results; let confident suggestions through and send the rest to the experts.":
        "Bibliográfiai rekordok fájlját (több tíz- vagy százezer sort) a háttérben sorolja be; letölti az "
        "eredményt; a biztos javaslatokat átengedi, a többit a szakértőkhöz küldi.",
    "See each category's precision, recall and F1 against the gold labels; train a new model version from the "
    "experts' corrections on the Models page, compare it, promote it.":
        "Kategóriánként látja a pontosságot, a fedést és az F1-et az etalon címkékhez mérve; a Modellek oldalon új "
        "modellváltozatot tanít a szakértők javításaiból, összeveti és élesíti.",
    "This workspace": "Ez a munkaterület",
    "**{records}** records · **{taxonomies}** taxonomies · **{jobs}** bulk jobs":
        "**{records}** rekord · **{taxonomies}** osztályozási rendszer · **{jobs}** tömeges feladat",
    "{name}: {experts} records labelled by experts, {in_files} with a label in the imported file":
        "{name}: {experts} rekordot címkéztek szakértők, {in_files} rekordnak van címkéje az importált fájlban",
    "Imported files ({n})": "Importált fájlok ({n})",
    "Next step": "Következő lépés",
    "Enter your name above: a queue opens only once the workbench knows who is labelling.":
        "Írja be fent a nevét: a munkasor csak akkor nyílik meg, ha a munkapad tudja, ki címkéz.",
    "The workspace has no records yet: import a file.": "A munkaterületen még nincs rekord: importáljon egy fájlt.",
    "Import records": "Rekordok importálása",
    "{user}, as {role}: go on to {page}.": "{user}, {role} szerepkörben: tovább ide: {page}.",
    # Annotate
    "Queue": "Munkasor",
    "Model": "Modell",
    "Second model (side by side)": "Második modell (egymás mellett)",
    "Work on": "Min dolgozik",
    "Open queue": "Munkasor megnyitása",
    "Only records containing (title, abstract or id)": "Csak az ezt tartalmazó rekordok (cím, kivonat vagy azonosító)",
    "Choose what to work on above and open the queue.": "Válassza ki fent, min dolgozik, és nyissa meg a munkasort.",
    "This queue is empty: nothing matches. Choose another queue above.":
        "Ez a munkasor üres: semmi sem felel meg. Válasszon fent másikat.",
    "Done {done} · remaining {remaining} · record {position} of {total}":
        "Kész {done} · hátra {remaining} · {position}. rekord ennyiből: {total}",
    "Whole text ({n} characters)": "Teljes szöveg ({n} karakter)",
    "**Suggestions**": "**Javaslatok**",
    "No model suggestions": "Nincs modelljavaslat",
    "low confidence": "kis megbízhatóság",
    "Write the codes back into the library system's export (MARC21, MARCXML, RIS, BibTeX)":
        "A kódok visszaírása a könyvtári rendszer exportjába (MARC21, MARCXML, RIS, BibTeX)",
    "Upload the file as it was imported: each record gets its final codes (MARC: an 084 field per code with the "
    "scheme and where the code comes from; RIS and BibTeX: keywords); every other field stays as it was.":
        "Töltse fel a fájlt úgy, ahogy importálta: minden rekord megkapja a végleges kódjait (MARC: kódonként egy "
        "084-es mező a sémával és a kód eredetével; RIS és BibTeX: kulcsszavak); minden más mező változatlan marad.",
    "The original export": "Az eredeti export",
    "{0:,} records of {1} get their final codes.": "A(z) {1} {0:,} rekordja megkapja a végleges kódjait.",
    "Or harvest from an OAI-PMH endpoint (a library system, a repository)":
        "Vagy begyűjtés OAI-PMH végpontról (könyvtári rendszer, repozitórium)",
    "Endpoint address": "A végpont címe",
    "Metadata format": "Metaadat-formátum",
    "Set (optional)": "Halmaz (nem kötelező)",
    "Changed from (YYYY-MM-DD, optional)": "Módosítva ettől (ÉÉÉÉ-HH-NN, nem kötelező)",
    "Changed until (YYYY-MM-DD, optional)": "Módosítva eddig (ÉÉÉÉ-HH-NN, nem kötelező)",
    "Harvest": "Begyűjtés",
    "Harvesting…": "Begyűjtés…",
    "{0:,} records harvested: map and import them below.":
        "{0:,} rekord begyűjtve: lent rendelje hozzá és importálja őket.",
    "supervised": "felügyelt",
    "cross-lingual": "nyelvek közötti",
    "zero-shot": "példa nélküli",
    "Accept top": "Első elfogadása",
    "Reject all": "Mind elutasítva",
    "Skip": "Kihagyás",
    "Undo": "Visszavonás",
    "Previous": "Előző",
    "Next": "Következő",
    "Reason or note for the next action (optional)": "Indoklás vagy megjegyzés a következő lépéshez (nem kötelező)",
    "Note on this record": "Megjegyzés ehhez a rekordhoz",
    "Add note": "Megjegyzés hozzáadása",
    "History of this record": "A rekord előzményei",
    "No actions yet.": "Még nincs lépés.",
    "(enter your name in the sidebar)": "(írja be a nevét az oldalsávban)",
    "**Hierarchy** · choose any node, at any level": "**Hierarchia** · bármely csomópont, bármely szinten",
    "Several codes": "Több kód",
    "Search code or name (English or Hungarian, typos forgiven)":
        "Kód vagy név keresése (angolul vagy magyarul, elírás megengedett)",
    "Use this code": "Ezt a kódot választom",
    "Use this node": "Ezt a csomópontot választom",
    "Add this node": "Csomópont hozzáadása",
    "All": "Mind",
    "Keyboard: ": "Billentyűk: ",
    "**1-5** choose suggestion · **A** accept the top one · **X** reject all · **S** skip · **U** undo · "
    "**N** next · **P** previous":
        "**1-5** javaslat választása · **A** az első elfogadása · **X** mind elutasítva · **S** kihagyás · "
        "**U** visszavonás · **N** következő · **P** előző",
    "Enter your name in the sidebar: every label records who made it.":
        "Írja be a nevét az oldalsávban: minden címke rögzíti, ki adta.",
    "Enter your name in the sidebar (or on the Start page): a queue opens once the workbench knows who is "
    "labelling, since every label records who made it.":
        "Írja be a nevét az oldalsávban (vagy a Kezdőlapon): a munkasor akkor nyílik meg, ha a munkapad tudja, ki "
        "címkéz, mert minden címke rögzíti, ki adta.",
    # Annotate (the queue panel and the card)
    "Predicted category (with everything below it)": "Javasolt kategória (mindennel alatta)",
    "Orders the queue and makes the suggestions. Best held-out F1 first.":
        "Ez rendezi a munkasort és adja a javaslatokat. Elöl a legjobb teszt-F1.",
    "**Assign records** from the open queue": "**Rekordok kiosztása** a nyitott munkasorból",
    "How many": "Hányat",
    "Assign": "Kiosztás",
    "Find a record by id or words": "Rekord keresése azonosító vagy szavak alapján",
    "Found": "Találatok",
    "Open this record": "Rekord megnyitása",
    "Import batch": "Importálási köteg",
    "No record matches.": "Nincs ilyen rekord.",
    "Collect several codes, then save them together.": "Gyűjtsön össze több kódot, majd mentse őket együtt.",
    "Clear": "Törlés",
    "Language": "Nyelv",
    "To annotator": "Kinek",
    "Id or words": "Azonosító vagy szavak",
    "Add": "Hozzáadás",
    "Assigned {0} record(s) to {1}.": "{0} rekord kiosztva neki: {1}.",
    "e.g. W2034 or oktatás": "pl. W2034 vagy oktatás",
    "**Keywords:** {0}": "**Kulcsszavak:** {0}",
    "{0} less likely suggestion(s) hidden (together {1:.0%}); the hierarchy browser shows every node's score.":
        "{0} kevésbé valószínű javaslat elrejtve (együtt {1:.0%}); a hierarchiaböngésző minden csomópont "
        "pontszámát mutatja.",
    "Save {0} code(s)": "{0} kód mentése",
    "Enter your name in the sidebar to see the records assigned to you.":
        "Írja be a nevét az oldalsávban, hogy lássa a neki kiosztott rekordokat.",
    "Accept {0}: {1}": "Elfogadás {0}: {1}",
    # Bulk classify
    "Codes per record (top-k)": "Kód rekordonként (top-k)",
    "Leave out codes scoring below": "Ennél kisebb pontszámú kódok elhagyása",
    "Report at level": "Eredmény ezen a szinten",
    "Bad rows": "Hibás sorok",
    "Long texts": "Hosszú szövegek",
    "Start job": "Feladat indítása",
    "Download CSV": "CSV letöltése",
    "Download XLSX": "XLSX letöltése",
    "Triage by confidence": "Szétválogatás megbízhatóság szerint",
    "Records the model is sure of are accepted as machine labels (recorded as machine-accepted, never as an "
    "expert's); the rest wait in the expert queue on the Annotate page. Records in a language the model was not "
    "trained for always go to the experts.":
        "Azokat a rekordokat, amelyekben a modell biztos, gépi címkeként elfogadja (gépi elfogadásként rögzítve, "
        "sosem szakértőiként); a többi a Címkézés oldal szakértői munkasorában vár. Azok a rekordok, amelyek "
        "nyelvére a modellt nem tanították, mindig a szakértőkhöz kerülnek.",
    "Rule": "Szabály",
    "Apply triage": "Szétválogatás alkalmazása",
    "Undo this model's triage": "A modell szétválogatásának visszavonása",
    "Models of several taxonomies may run in one job (e.g. FORD and CAP): each writes its own taxonomy's codes, "
    "and models on the same encoder read each record once.":
        "Egy feladatban több osztályozási rendszer modellje is futhat (pl. FORD és CAP): mindegyik a saját "
        "rendszerének kódjait írja, az azonos kódolójú modellek pedig minden rekordot egyszer olvasnak.",
    "Job": "Feladat",
    "Cancel": "Leállítás",
    "Resume": "Folytatás",
    "Retry": "Újra",
    "Allowed error (miscoverage)": "Megengedett hiba (lefedetlenség)",
    "New job": "Új feladat",
    "No jobs yet.": "Még nincs feladat.",
    "Run a failed or cancelled job on from where it stopped":
        "Hibás vagy leállított feladat folytatása onnan, ahol megállt",
    "Results of job #{0}": "A(z) #{0} feladat eredménye",
    "Preview: per category, and a sample of what would be accepted":
        "Előnézet: kategóriánként, és minta abból, amit elfogadna",
    "Classify whole files into {0}. A job runs in its own process: it goes on when you close the tab, can be "
    "cancelled, and resumes where it stopped after a crash or restart.":
        "Teljes fájlok besorolása ebbe: {0}. A feladat saját folyamatban fut: a lap bezárása után is folytatódik, "
        "leállítható, és összeomlás vagy újraindítás után ott folytatódik, ahol abbamaradt.",
    "{0:,} records machine-accepted; {1:,} wait in the expert queue (Annotate → By import batch #{2}).":
        "{0:,} rekord gépileg elfogadva; {1:,} a szakértői munkasorban vár (Címkézés → Importálási köteg "
        "szerint #{2}).",
    "{0:,} machine-accepted labels undone (each by an undo event); those records wait in the expert queue again.":
        "{0:,} gépileg elfogadott címke visszavonva (mindegyik egy visszavonási eseménnyel); ezek a rekordok ismét "
        "a szakértői munkasorban várnak.",
    "Job #{0} started.": "A(z) #{0} feladat elindult.",
    "#{0} {1} · {2:,} of {3:,} rows · {4:,.1f} records/s · ETA {5}":
        "#{0} {1} · {2:,} / {3:,} sor · {4:,.1f} rekord/s · hátralévő idő {5}",
    "{0:,} record(s) could not be classified: their rows carry an error cell in the results; the job went on.":
        "{0:,} rekordot nem sikerült besorolni: soraikban hibacella áll az eredményben; a feladat folytatódott.",
    "{0} carries no held-out records to calibrate a guarantee on (a zero-shot or multi-label model): it "
    "machine-accepts nothing. Use per-category thresholds, or a trained version.":
        "A(z) {0} nem hordoz teszt-rekordokat, amelyekre garanciát lehetne kalibrálni (példa nélküli vagy "
        "többcímkés modell): semmit sem fogad el gépileg. Használjon kategóriánkénti küszöböket vagy egy tanított "
        "változatot.",
    "A record is accepted when its {0:.0%} prediction set is a single code: its top score reaches {1:.3f} and its "
    "second does not. On {2:,} held-out records used neither for training nor for calibration, the sets held the "
    "right code for {3:.1%} (the guarantee: at least {4:.0%}), {5:.0%} would be accepted, with a measured error of "
    "**{6}** (calibrated on {7:,} others).":
        "Egy rekordot akkor fogad el, ha {0:.0%}-os előrejelzési halmaza egyetlen kód: a legjobb pontszáma eléri a "
        "{1:.3f} értéket, a második nem. {2:,} teszt-rekordon (sem tanításra, sem kalibrálásra nem használtuk őket) "
        "a halmazok {3:.1%}-ban tartalmazták a helyes kódot (a garancia: legalább {4:.0%}), {5:.0%} lenne "
        "elfogadva, **{6}** mért hibával ({7:,} másik rekordon kalibrálva).",
    "Job #{0} is {1}: these are its partial results ({2:,} of {3:,} rows classified; the rest have empty cells). "
    "Retry it to finish.":
        "A(z) #{0} feladat állapota: {1}; ez a részeredménye ({2:,} / {3:,} sor besorolva; a többi cella üres). "
        "Indítsa újra a befejezéshez.",
    # Import
    "Bibliographic records or political texts: CSV/TSV (encoding and delimiter detected), XLSX, JSONL or Parquet, "
    "or as library systems export them: MARC21 (.mrc), MARCXML or Dublin Core (.xml), RIS, BibTeX. An import either "
    "completes or writes nothing.":
        "Bibliográfiai rekordok vagy politikai szövegek: CSV/TSV (a kódolást és az elválasztót felismeri), XLSX, "
        "JSONL vagy Parquet, vagy ahogy a könyvtári rendszerek exportálják: MARC21 (.mrc), MARCXML vagy Dublin Core "
        "(.xml), RIS, BibTeX. Az importálás vagy teljesen lefut, vagy semmit sem ír.",
    "Imports in this workspace": "Importálások ezen a munkaterületen",
    "Reading options (detected automatically)": "Olvasási beállítások (automatikusan felismerve)",
    "Format": "Formátum",
    "Encoding": "Kódolás",
    "Delimiter": "Elválasztó",
    "Column mapping": "Oszlopok megfeleltetése",
    "Records for taxonomy": "Rekordok ehhez az osztályozási rendszerhez",
    "Language for rows without one": "Nyelv a nyelv nélküli sorokhoz",
    "Domain for rows without one": "Terület a terület nélküli sorokhoz",
    "When a row is bad": "Hibás sor esetén",
    "Leave out rows whose text another collection has": "Egy másik gyűjteményben már meglévő szövegű sorok elhagyása",
    "Nothing imported yet.": "Még nincs importálás.",
    "Sheet": "Munkalap",
    "Choose (labels are checked against it)": "Válasszon (a címkéket ehhez ellenőrzi)",
    "The annotation queues of other taxonomies leave these records out; label codes in the file are checked "
    "against it.":
        "A többi osztályozási rendszer munkasorai kihagyják ezeket a rekordokat; a fájl címkekódjait ehhez "
        "ellenőrzi.",
    "Choose the taxonomy these records are for (or 'Any taxonomy') to import them.":
        "Válassza ki, melyik osztályozási rendszerhez tartoznak a rekordok (vagy 'Any taxonomy'), és importálja "
        "őket.",
    "The workbook has several sheets: choose the one with the records.":
        "A munkafüzetben több munkalap van: válassza ki a rekordokat tartalmazót.",
    "The file has a label column: choose the taxonomy its codes belong to.":
        "A fájlban van címkeoszlop: válassza ki az osztályozási rendszert, amelyhez a kódjai tartoznak.",
    "Importing…": "Importálás…",
    "{0:,} records in all.": "Összesen {0:,} rekord.",
    "Delete an import": "Importálás törlése",
    "Its records leave every queue, export and chart; their predictions and bulk results go. The annotation log "
    "is never edited: each deletion is an event of its own.":
        "Rekordjai minden munkasorból, exportból és diagramból kikerülnek; előrejelzéseik és tömeges eredményeik "
        "törlődnek. A címkézési naplót semmi sem írja át: minden törlés önálló esemény.",
    "Yes, delete it": "Igen, törlöm",
    "Delete": "Törlés",
    "{0} row(s) left out or with notes:": "{0} sor kimaradt vagy megjegyzést kapott:",
    "Import #{0} deleted: {1:,} records.": "A(z) #{0} importálás törölve: {1:,} rekord.",
    "Importing… {0:,} rows read": "Importálás… {0:,} sor beolvasva",
    # Models
    "Try a text": "Próbáljon ki egy szöveget",
    "Add a model folder": "Modellmappa hozzáadása",
    "Copy an exported model folder (ONNX or transformers files with workbench.json) into the models folder, then "
    "check it here.":
        "Másoljon egy exportált modellmappát (ONNX vagy transformers fájlok workbench.json-nal) a modellek "
        "mappájába, majd ellenőrizze itt.",
    "Folder (inside the models folder)": "Mappa (a modellek mappáján belül)",
    "Check and add": "Ellenőrzés és hozzáadás",
    "Connect an Annif project": "Annif-projekt csatlakoztatása",
    "The build of the default models stopped: {0}. Models already built work; start the workbench again to go on "
    "(log: {1}).":
        "Az alapmodellek építése leállt: {0}. A már elkészült modellek működnek; indítsa újra a munkapadot a "
        "folytatáshoz (napló: {1}).",
    "The build of the default models stopped before it finished ({0} of {1} ready). Start the workbench again "
    "(scripts/run.sh) to go on.":
        "Az alapmodellek építése befejezés előtt leállt ({0} / {1} kész). A folytatáshoz indítsa újra a munkapadot "
        "(scripts/run.sh).",
    "Default models: {0} of {1} ready; the rest build in the background{2}":
        "Alapmodellek: {0} / {1} kész; a többi a háttérben készül{2}",
    "Suggestions use the models ready now (the lexical ones first); each model is used as soon as it is built. {0}":
        "A javaslatok a már kész modelleket használják (először a lexikálisakat); minden modell elkészülte után "
        "azonnal használatba kerül. {0}",
    "Connect an LLM": "Nagy nyelvi modell csatlakoztatása",
    "A generative model behind an OpenAI-compatible endpoint (vLLM, llama.cpp's server, Ollama) re-ranks a model's "
    "top suggestions, or chooses among a small taxonomy's codes. Its answers are limited to the taxonomy's codes and "
    "cached. Record texts are sent to the endpoint; endpoints other than this machine's must be allowed by an "
    "administrator (WORKBENCH_REMOTE_HOSTS).":
        "Egy OpenAI-kompatibilis végponton (vLLM, llama.cpp szervere, Ollama) futó generatív modell újrarangsorolja "
        "egy modell legjobb javaslatait, vagy választ egy kis osztályozási rendszer kódjai közül. Válaszai a rendszer "
        "kódjaira korlátozódnak, és tárolódnak. A rekordok szövege a végpontra kerül; a nem ezen a gépen futó "
        "végpontokat egy adminisztrátornak kell engedélyeznie (WORKBENCH_REMOTE_HOSTS).",
    "Endpoint (its /v1 address)": "Végpont (a /v1 címe)",
    "Model name at the endpoint": "A modell neve a végponton",
    "Re-rank the suggestions of": "Ennek a javaslatait rangsorolja újra",
    "Candidates a record": "Jelöltek rekordonként",
    "{0} ask(s) a model running elsewhere ({1}): its speed is not known in advance.":
        "{0} egy máshol futó modellt kérdez ({1}): a sebessége előre nem ismert.",
    "Measure the time on 5 rows": "Időmérés 5 soron",
    "Measured: about **{0}** for {1}{2:,} rows ({3}).": "Mért idő: kb. **{0}** {1}{2:,} sorra ({3}).",
    "An Annif server's project becomes a model like any other: suggestions, bulk jobs, figures, ensembles. Record "
    "texts are sent to the server; servers other than this machine's must be allowed by an administrator "
    "(WORKBENCH_REMOTE_HOSTS).":
        "Egy Annif-szerver projektje olyan modell lesz, mint bármely más: javaslatok, tömeges besorolás, mutatók, "
        "együttesek. A rekordok szövege a szerverre kerül; a nem ezen a gépen futó szervereket egy "
        "adminisztrátornak kell engedélyeznie (WORKBENCH_REMOTE_HOSTS).",
    "Annif server": "Annif-szerver",
    "Project id": "Projektazonosító",
    "Codes at level": "Kódok szintje",
    "Folder name": "Mappa neve",
    "Connect": "Csatlakoztatás",
    "Connected '{0}': {1}, {2} codes.": "Csatlakoztatva: '{0}': {1}, {2} kód.",
    "**Record texts are sent to** {0}": "**A rekordok szövege ide kerül:** {0}",
    "Not calibrated: its scores are not probabilities yet. Fit them on labelled records it did not train on "
    "(python -m core calibrate).":
        "Nincs kalibrálva: a pontszámai még nem valószínűségek. Illessze őket olyan címkézett rekordokon, "
        "amelyeken nem tanult (python -m core calibrate).",
    "No model folders yet. The set-up builds the default models (scripts/build_models.py).":
        "Még nincs modellmappa. A telepítés építi fel az alapmodelleket (scripts/build_models.py).",
    "Title, abstract or keywords": "Cím, kivonat vagy kulcsszavak",
    "Suggestions": "Javaslatok",
    "Read long texts in overlapping windows": "Hosszú szövegek olvasása átfedő ablakokban",
    "No usable model.": "Nincs használható modell.",
    "Model folders are read from {0}": "A modellmappák helye: {0}",
    "What a model can and cannot suggest": "Mit javasolhat egy modell, és mit nem",
    "e.g. The effect of minimum wages on youth unemployment":
        "pl. A minimálbér hatása a fiatalok munkanélküliségére",
    "**Held-out figures per category**": "**Teszteredmények kategóriánként**",
    "**Languages:** {0} · **runtime:** {1} · **codes:** {2}": "**Nyelvek:** {0} · **futtatókörnyezet:** {1} · "
                                                               "**kódok:** {2}",
    "A workspace version: its figures per category are on today's evaluation set below (Compare per category).":
        "Munkaterületi változat: kategóriánkénti eredményei lent, a mai értékelő halmazon láthatók "
        "(Összevetés kategóriánként).",
    "Texts longer than {0} tokens are read in windows whose scores are averaged, instead of being cut at the max "
    "length.":
        "A(z) {0} tokennél hosszabb szövegeket ablakokban olvassa, és a pontszámokat átlagolja, ahelyett hogy a "
        "legnagyobb hossznál levágná.",
    "Model '{0}' names taxonomy '{1}', which is not stored here.":
        "A(z) '{0}' modell a(z) '{1}' osztályozási rendszert nevezi meg, amely itt nincs tárolva.",
    "Model '{0}' {1} works: {2} codes of {3}.": "A(z) '{0}' {1} modell működik: {2} kód ebből: {3}.",
    "**Cannot suggest {0:,} of {1:,} nodes** of {2} (no training example, or deeper than its codes); the "
    "hierarchy browser marks them as not scored.":
        "**{1:,} csomópontból {0:,} nem javasolható** ({2}; nincs tanítópélda, vagy mélyebb a kódjainál); a "
        "hierarchiaböngésző pontszám nélkülinek jelöli őket.",
    "{0} output code(s) are not in the taxonomy and will be dropped: {1}":
        "{0} kimeneti kód nincs az osztályozási rendszerben, ezeket elhagyja: {1}",
    # Performance
    "Chart PNG": "Diagram PNG",
    "Chart SVG": "Diagram SVG",
    "Category": "Kategória",
    "Models (the first one is charted)": "Modellek (az elsőt ábrázolja)",
    "Gold labels": "Etalon címkék",
    "Only these experts' labels": "Csak ezeknek a szakértőknek a címkéi",
    "Level": "Szint",
    "Green from F1": "Zöld ettől az F1-től",
    "Yellow from F1": "Sárga ettől az F1-től",
    "A file with text columns and a column of gold codes (several separated by '|' or ';'): the model classifies "
    "every row and the figures come back as a table (CSV, XLSX, JSON).":
        "Szövegoszlopokat és egy etalon kódoszlopot tartalmazó fájl (több kód '|' vagy ';' jellel elválasztva): "
        "a modell minden sort besorol, az eredmény táblázatként érkezik (CSV, XLSX, JSON).",
    "Fields shown": "Megjelenített területek",
    "Weighted F1 per language (rows) and domain (columns)": "Súlyozott F1 nyelvenként (sorok) és területenként "
                                                            "(oszlopok)",
    "**Expert vs model, per category (Cohen's kappa)**": "**Szakértő és modell, kategóriánként (Cohen-féle kappa)**",
    "**Expert vs expert** (records labelled by both)": "**Szakértő és szakértő** (mindkettejük által címkézett "
                                                       "rekordok)",
    "Per": "Bontás",
    "Does a confidence of 80 % mean right 8 times in 10? Each point is a bin of the models' top-1 confidence on "
    "the gold records: on the dashed line, confidence means what it says.":
        "A 80 %-os megbízhatóság azt jelenti, hogy tízből nyolcszor helyes? Minden pont a modellek legjobb "
        "javaslatának megbízhatósági sávja az etalon rekordokon: a szaggatott vonalon a megbízhatóság azt jelenti, "
        "amit mond.",
    "No gold labels yet: label records on the Annotate page, or import records with their labels (choose 'Labels "
    "in imported files' above).":
        "Még nincs etalon címke: címkézzen rekordokat a Címkézés oldalon, vagy importáljon rekordokat a "
        "címkéikkel (fent: 'Labels in imported files').",
    "Evaluate": "Értékelés",
    "Classifying the file…": "A fájl besorolása…",
    "Size: gold records of the category · faded: fewer than {0} gold records (uncertain figures) · shape and "
    "colour: the F1 band.":
        "Méret: a kategória etalon rekordjai · halvány: {0}-nál kevesebb etalon rekord (bizonytalan eredmény) · "
        "alak és szín: az F1 sávja.",
    "Open these {0:,} records in Annotate": "Ez a(z) {0:,} rekord megnyitása a Címkézésben",
    "No data.": "Nincs adat.",
    "No record has labels from two experts yet.": "Még nincs két szakértő által címkézett rekord.",
    "{0}: where the models are good, mediocre or bad, and where there is no gold data.":
        "{0}: hol jók, közepesek vagy gyengék a modellek, és hol nincs etalon adat.",
    "{0:,} gold records in or predicted into this category: {1:,} with it as gold, {2:,} more the model put "
    "there.":
        "{0:,} etalon rekord ebben a kategóriában vagy ide jósolva: {1:,} etalonként ide tartozik, további {2:,} "
        "rekordot a modell sorolt ide.",
    "{0} has scored none of the {1:,} gold records yet.": "A(z) {0} még egyet sem pontozott a(z) {1:,} etalon "
                                                          "rekordból.",
    "{0:,} row(s) had no gold code of {1} and were left out.":
        "{0:,} sorban nem volt {1} etalon kód, ezek kimaradtak.",
    "{0:,} of the {1:,} evaluated rows are texts {2} was trained on: its figures on them are optimistic. Evaluate "
    "on records it has not seen.":
        "A(z) {1:,} értékelt sorból {0:,} olyan szöveg, amelyen a(z) {2} tanult: ezeken mért eredményei "
        "túl kedvezőek. Értékelje olyan rekordokon, amelyeket nem látott.",
    "{0:,} row(s) had no text for the model and were left out.":
        "{0:,} sorban nem volt szöveg a modell számára, ezek kimaradtak.",
    "{0:,} categories at this level: choose the fields to draw.":
        "{0:,} kategória van ezen a szinten: válassza ki a megrajzolandó területeket.",
    "**Per {0}**": "**{0} szerint**",
    # Taxonomies
    "Import a taxonomy": "Osztályozási rendszer importálása",
    "CSV (code, parent, name_en, name_hu…, description; several parents separated by '|'), JSON (a node list or "
    "a nested tree) or SKOS Turtle (.ttl, as Annif uses).":
        "CSV (code, parent, name_en, name_hu…, description; több szülő '|' jellel elválasztva), JSON "
        "(csomópontlista vagy beágyazott fa) vagy SKOS Turtle (.ttl, ahogy az Annif használja).",
    "Taxonomy file": "Osztályozási rendszer fájlja",
    "Name": "Név",
    "Id (short, unique)": "Azonosító (rövid, egyedi)",
    "Replace a stored taxonomy with the same id": "Az azonos azonosítójú tárolt rendszer cseréje",
    "Import taxonomy": "Importálás",
    "No taxonomy is stored yet: import one below.": "Még nincs tárolt osztályozási rendszer: importáljon egyet lent.",
    "Nodes": "Csomópontok",
    "Levels": "Szintek",
    "Leaves": "Levelek",
    "Languages": "Nyelvek",
    "Browse": "Böngészés",
    "Download this taxonomy as CSV": "Letöltés CSV-ként",
    "default: the file name": "alapértelmezés: a fájl neve",
    "default: from the name": "alapértelmezés: a névből",
    "A leaf: no children.": "Levél: nincs gyermeke.",
    "Level {0} · {1:,} nodes below": "{0}. szint · alatta {1:,} csomópont",
    "Imported '{0}' ({1}): {2:,} nodes, {3} levels.": "Importálva: '{0}' ({1}): {2:,} csomópont, {3} szint.",
    # Training data
    "Annotators (none chosen: everyone)": "Címkézők (ha senki sincs kiválasztva: mindenki)",
    "Labelled between": "Címkézés ideje",
    "Cut codes at level": "Kódok levágása ezen a szinten",
    "Rows": "Sorok",
    "Include machine-accepted labels": "A gépileg elfogadott címkékkel együtt",
    "Include labels from imported files": "Az importált fájlok címkéivel együtt",
    "Validation share": "Validációs arány",
    "Test share": "Tesztarány",
    "Random seed": "Véletlenmag",
    "Final codes for the catalogue": "Végleges kódok a katalógushoz",
    "Every record's final code with where it comes from: an expert's label before a machine-accepted one, before "
    "the label it was imported with.":
        "Minden rekord végleges kódja a forrásával: a szakértő címkéje előbbre való a gépileg elfogadottnál, az "
        "pedig az importált címkénél.",
    "Leave empty for all time; choose a start and an end day.":
        "Hagyja üresen a teljes időszakhoz; vagy válasszon kezdő és záró napot.",
    "No labels match these filters yet. Label records on the Annotate page.":
        "Ezekhez a szűrőkhöz még nincs címke. Címkézzen rekordokat a Címkézés oldalon.",
    "Records": "Rekordok",
    "Categories": "Kategóriák",
    "Annotators": "Címkézők",
    "**Examples per category**": "**Példák kategóriánként**",
    "No record has a code yet.": "Még egyik rekordnak sincs kódja.",
    "Labels in {0} as training files. Each record's current label per annotator is derived from the event log "
    "(undone actions excluded; rejected records carry no label).":
        "A(z) {0} címkéi tanítófájlként. Minden rekord címkézőnkénti aktuális címkéje az eseménynaplóból adódik "
        "(a visszavont lépések nélkül; az elutasított rekordoknak nincs címkéje).",
    "Preview": "Előnézet",
    "Download {0}": "{0} letöltése",
    # Learning (Models and Annotate)
    "**Train a new version** from this workspace's expert labels (the evaluation set is never trained on)":
        "**Új változat tanítása** a munkaterület szakértői címkéiből (az értékelő halmazon sosem tanul)",
    "Kind": "Fajta",
    # model kinds and their settings (core.models.kinds)
    "TF-IDF word + character n-grams (any language)": "TF-IDF szó- és karakter-n-gramok (bármely nyelv)",
    "a head on a sentence encoder's vectors (kept per record): MiniLM or multilingual e5":
        "fej egy mondatkódoló vektorain (rekordonként megőrizve): MiniLM vagy a többnyelvű e5",
    "Sentence encoder": "Mondatkódoló",
    "minilm: all-MiniLM-L6-v2 (English, fast); e5: multilingual-e5-small (about 100 languages, Hungarian and "
    "Danish among them; about 3 times slower)":
        "minilm: all-MiniLM-L6-v2 (angol, gyors); e5: multilingual-e5-small (mintegy 100 nyelv, köztük a magyar "
        "és a dán; nagyjából háromszor lassabb)",
    "members of other kinds (TF-IDF + head by default), weights fitted on out-of-fold predictions":
        "más fajták tagjai (alapból TF-IDF + fej), súlyuk a hajtáson kívüli előrejelzésekre illesztve",
    "a transformer encoder fine-tuned end to end (MiniLM, or an encoder you added)":
        "végig finomhangolt transzformer-kódoló (MiniLM vagy egy Ön által hozzáadott kódoló)",
    "Character n-grams": "Karakter-n-gramok",
    "character 2-5-grams beside the words: inflected and compound words match; slower on long texts":
        "2–5 karakteres n-gramok a szavak mellett: a ragozott és összetett szavak is egyeznek; hosszú szövegen "
        "lassabb",
    "Regularisation C": "Regularizáció (C)",
    "the linear SVM's inverse regularisation: higher fits the training labels more closely":
        "a lineáris SVM inverz regularizációja: nagyobb értéknél szorosabban követi a tanítócímkéket",
    "Regularisation C (0: automatic)": "Regularizáció (C; 0: automatikus)",
    "the head's inverse regularisation: higher fits the training labels more closely; 0 takes 20 from 2,500 "
    "records up and more for fewer (at most 300)":
        "a fej inverz regularizációja: nagyobb értéknél szorosabban követi a tanítócímkéket; 0: 2500 rekordtól "
        "20, kevesebb rekordnál nagyobb (legfeljebb 300)",
    "Members": "Tagok",
    "the kinds mixed: each is trained on the same records, then weighted":
        "a kevert fajták: mindegyik ugyanazokon a rekordokon tanul, majd súlyozva keveredik",
    "Encoder": "Kódoló",
    "the transformer to start from: the shipped MiniLM, or a folder added on the Models page "
    "(or with the add-encoder command)":
        "a kiinduló transzformer: a mellékelt MiniLM vagy a Modellek oldalon (vagy az add-encoder paranccsal) "
        "hozzáadott mappa",
    "Epochs (0: automatic)": "Epochok (0: automatikus)",
    "passes over the training records at most (early stopping may end sooner); 0 takes 6, more for few records "
    "so that training runs at least 300 steps (at most 30 epochs)":
        "legfeljebb ennyiszer halad végig a tanítórekordokon (a korai leállás hamarabb is véget vethet); 0: 6 "
        "epoch, kevés rekordnál több, hogy a tanítás legalább 300 lépés legyen (legfeljebb 30 epoch)",
    "Maximum length (tokens)": "Legnagyobb hossz (token)",
    "tokens read per record: more reads further into abstracts, at a cost that grows with the square":
        "rekordonként olvasott tokenek: több token messzebb olvas az absztraktba, a költség négyzetesen nő",
    "Batch size (0: automatic)": "Kötegméret (0: automatikus)",
    "records per step: 0 takes 16 on a CPU, 64 on a GPU": "rekord lépésenként: 0 esetén CPU-n 16, GPU-n 64",
    "Learning rate, encoder": "Tanulási ráta, kódoló",
    "how fast the pretrained encoder's weights move (small: it already knows language)":
        "milyen gyorsan mozdulnak az előtanított kódoló súlyai (kicsi: a nyelvet már ismeri)",
    "Learning rate, head": "Tanulási ráta, fej",
    "how fast the new classification head learns (larger: it starts from random weights)":
        "milyen gyorsan tanul az új osztályozó fej (nagyobb: véletlen súlyokból indul)",
    "Warm-up share": "Bemelegítés aránya",
    "share of the steps over which the learning rates rise from zero (steadies the first steps)":
        "a lépések azon aránya, amely alatt a tanulási ráták nulláról felfutnak (az első lépéseket stabilizálja)",
    "Imbalance": "Kiegyensúlyozatlanság",
    "weighted-loss: rare categories weigh more in the loss; balanced: they are drawn more often; plain: neither":
        "weighted-loss: a ritka kategóriák többet nyomnak a veszteségben; balanced: gyakrabban kerülnek sorra; "
        "plain: egyik sem",
    "Gradient accumulation": "Gradiensgyűjtés",
    "batches added up before each step: a larger effective batch in the same memory":
        "lépésenként összeadott kötegek: nagyobb tényleges köteg ugyanakkora memóriában",
    "Early-stopping patience (epochs)": "Korai leállás türelme (epoch)",
    "stop after this many epochs without a better validation F1 (0: never stop early)":
        "leáll ennyi epoch után, ha a validációs F1 nem javul (0: sosem áll le korán)",
    "share of the training records held back to choose the best epoch and calibrate confidence":
        "a tanítórekordok visszatartott aránya a legjobb epoch kiválasztásához és a bizonyosság kalibrálásához",
    "Contrastive stage": "Kontrasztív szakasz",
    "the fast tier of a fine-tuned model: static vectors distilled from its encoder + a head":
        "egy finomhangolt modell gyors szintje: a kódolójából desztillált statikus vektorok + fej",
    "Fine-tuned model": "Finomhangolt modell",
    "the fine-tuned version whose encoder is distilled (no transformer at run time afterwards)":
        "a finomhangolt változat, amelynek kódolóját desztillálja (utána futáskor nincs transzformer)",
    "No fine-tuned model of this taxonomy yet: train one with the finetune kind first.":
        "Ennek a taxonómiának még nincs finomhangolt modellje: előbb tanítson egyet a finetune fajtával.",
    "SetFit-style sentence pairs from the labels train the encoder before the head: helps with few labels; auto: "
    "below 1,000 training records":
        "a címkékből képzett SetFit-szerű mondatpárok a fej előtt a kódolót tanítják: kevés címkénél segít; "
        "auto: 1000 tanítórekord alatt",
    "Workers": "Munkafolyamatok",
    "data-parallel training processes (Ray Train); 1 trains here":
        "adatpárhuzamos tanító folyamatok (Ray Train); 1 esetén itt tanul",
    "Ray cluster address": "Ray-fürt címe",
    "a running Ray cluster (ray://host:10001 or host:6379) to train on; empty: a local one when workers > 1":
        "futó Ray-fürt, amelyen tanul (ray://gép:10001 vagy gép:6379); üres: helyi fürt, ha több munkafolyamat van",
    "More settings of {0}": "A(z) {0} további beállításai",
    "Add an encoder to fine-tune from": "Kódoló hozzáadása finomhangoláshoz",
    "A folder on this computer with config.json, tokenizer files and model.safetensors (for example a SciBERT, "
    "XLM-RoBERTa or huBERT download). It is checked and copied into the models folder; nothing is downloaded.":
        "Egy mappa ezen a gépen config.json, tokenizáló fájlok és model.safetensors fájllal (például letöltött "
        "SciBERT, XLM-RoBERTa vagy huBERT). Ellenőrzés után a modellmappába másolódik; semmi nem töltődik le.",
    "Encoder folder": "Kódoló mappája",
    "Name (empty: the folder's name)": "Név (üres: a mappa neve)",
    "Encoder {0} added.": "A(z) {0} kódoló hozzáadva.",
    "Resume from epoch {0}": "Folytatás a(z) {0}. epochtól",
    "Go on from the last completed epoch's checkpoint": "Folytatás az utolsó befejezett epoch mentéséből",
    "training loss": "tanítási veszteség",
    "validation macro F1": "validációs makro-F1",
    "epoch": "epoch",
    "Epoch {0} is the one kept (best validation F1).": "A(z) {0}. epoch maradt meg (legjobb validációs F1).",
    "Training curve": "Tanulási görbe",
    "Include imported labels": "Az importált címkékkel együtt",
    "Only language (ISO code)": "Csak ez a nyelv (ISO-kód)",
    "Train": "Tanítás",
    "Retrain automatically every N new corrections (0: never)":
        "Automatikus újratanítás minden N új javítás után (0: soha)",
    "Compare per category on the evaluation set": "Összevetés kategóriánként az értékelő halmazon",
    "For language (empty: all)": "Nyelvhez (üres: mind)",
    "Promote even where categories drop": "Élesítés akkor is, ha kategóriák romlanak",
    "Promote": "Élesítés",
    "Roll back": "Visszaállítás",
    "Retrain": "Újratanítás",
    "Choose the team lead role in the sidebar to train, promote or roll back.":
        "A tanításhoz, élesítéshez és visszaállításhoz válassza az oldalsávban a csoportvezető szerepkört.",
    "No version trained in this workspace yet.": "Ezen a munkaterületen még nem tanítottak változatot.",
    "Delete a version": "Változat törlése",
    "Version": "Változat",
    "{0:,} new expert correction(s) in {1} {2}; retrain?": "{0:,} új szakértői javítás itt: {1} {2}; újratanítja?",
    "Train a new version in the background and evaluate it on the evaluation set: {0}":
        "Új változat tanítása a háttérben és értékelése az értékelő halmazon: {0}",
    "Model versions · {0}": "Modellváltozatok · {0}",
    "Versions trained when the evaluation set was smaller are compared on today's records; figures are kept until "
    "the set grows again.":
        "A kisebb értékelő halmaz idején tanított változatokat a mai rekordokon veti össze; az eredmények a "
        "halmaz következő bővüléséig megmaradnak.",
    "Evaluating…": "Értékelés…",
    "“today”: on the {0:,} records of today's evaluation set; “when trained”: on the evaluation set as it was "
    "when the version was trained.":
        "„ma”: a mai értékelő halmaz {0:,} rekordján; „tanításkor”: az értékelő halmazon, ahogy a változat "
        "tanításakor volt.",
    "Delete its folder": "Mappájának törlése",
    "Training job #{0} started: it runs in the background at a lower priority.":
        "A(z) #{0} tanítási feladat elindult: a háttérben, kisebb prioritással fut.",
    "Evaluate {0} version(s) on today's evaluation set ({1:,} records)":
        "{0} változat értékelése a mai értékelő halmazon ({1:,} rekord)",
    "{0:,} corrections since the model in use: automatic training job #{1} started.":
        "{0:,} javítás a használt modell óta: elindult a(z) #{1} automatikus tanítási feladat.",
    "Back to {0}": "Vissza erre: {0}",
    # shared page parts
    "Collection": "Gyűjtemény",
    "Backup": "Biztonsági mentés",
    "A consistent copy of the whole workspace, taken while it is in use, with the annotation log's chain head "
    "written beside it (`python -m core verify` and `restore` use it).":
        "A teljes munkaterület konzisztens másolata, használat közben készítve, mellette a címkézési napló "
        "láncának feje (a `python -m core verify` és a `restore` használja).",
    "Back up the workspace now": "Munkaterület mentése most",
    "File": "Fájl",
    "A record is identified by its collection and id: a new collection never merges with stored records; adding "
    "to a stored one updates it.":
        "Egy rekordot a gyűjteménye és az azonosítója azonosít: egy új gyűjtemény sosem olvad össze a tárolt "
        "rekordokkal; egy tároltba való felvétel frissíti azt.",
    "An id stored with other text": "Más szöveggel tárolt azonosító",
    "Scoring…": "Pontozás…",
    "Results": "Találatok",
    "Open": "Megnyitás",
    "File name or path": "Fájlnév vagy elérési út",
    "intact": "ép",
    "Name of the new collection": "Az új gyűjtemény neve",
    "A collection named '{0}' exists: choose it above to add to it, or give another name.":
        "Már van '{0}' nevű gyűjtemény: válassza ki fent, ha bővíteni akarja, vagy adjon más nevet.",
    "Scoring {0:,} {1} with {2}…": "{0:,} {1} pontozása ezzel: {2}…",
    "BROKEN at event {0}": "MEGSZAKADT a(z) {0}. eseménynél",
    "Backed up to {0}: {1:,} events, chain {2}.": "Mentve ide: {0}: {1:,} esemény, a lánc {2}.",
    "Nothing in {0} matches '{1}'.": "A(z) {0} rendszerben semmi sem felel meg ennek: '{1}'.",
    "… and {0} more: search to reach them.": "… és még {0}: kereséssel érheti el őket.",
    "Scored {0:,} of {1:,}": "Pontozva: {0:,} / {1:,}",
    # choices
    "Skip and list them": "Kihagyás és listázás",
    "Stop the job": "A feladat leállítása",
    "Cut at the model's max length": "Levágás a modell legnagyobb hosszánál",
    "Read in windows, pool scores": "Olvasás ablakokban, pontszámok összevonása",
    "With a guarantee (conformal)": "Garanciával (konformális)",
    "Per-category thresholds": "Kategóriánkénti küszöbök",
    "Import nothing and list the bad rows": "Semmit sem importál, listázza a hibás sorokat",
    "Skip bad rows and import the rest": "A hibás sorokat kihagyja, a többit importálja",
    "day": "nap",
    "week": "hét",
    "month": "hónap",
    "One per record (latest label)": "Rekordonként egy (a legutóbbi címke)",
    "One per record and annotator": "Rekordonként és címkézőnként egy",
    "Upload": "Feltöltés",
    "A file in the inbox folder (large files)": "Fájl a beérkező mappában (nagy fájlok)",
    "Stop and list the rows": "Leállás és a sorok listázása",
    "Update the stored record": "A tárolt rekord frissítése",
    "Least confident first (margin)": "A legbizonytalanabbak elöl (különbség)",
    "Least confident first (entropy)": "A legbizonytalanabbak elöl (entrópia)",
    "By predicted category": "Javasolt kategória szerint",
    "By import batch": "Importálási köteg szerint",
    "By language": "Nyelv szerint",
    "Assigned to me": "Nekem kiosztva",
    "Review labelled records": "Címkézett rekordok áttekintése",
    "Classifying": "Besorolás folyik",
    "Importing the file": "A fájl importálása",
    "Waiting to start": "Indulásra vár",
    "Interrupted (the worker stopped): resume it": "Megszakadt (a feldolgozó leállt): folytassa",
    "Cancelling…": "Leállítás…",
    "Cancelled": "Leállítva",
    "Done": "Kész",
    "Failed": "Hibával leállt",
    "Expert labels": "Szakértői címkék",
    "Labels in imported files": "Az importált fájlok címkéi",
    "Both (experts first)": "Mindkettő (a szakértőiek elöl)",
    "JSON Lines": "JSON Lines",
    "Hugging Face datasets folder (zip)": "Hugging Face datasets mappa (zip)",
    "F1 (micro)": "F1 (mikro)",
    "Macro F1": "Makro-F1",
    "Weighted F1": "Súlyozott F1",
    "Lenient F1": "Engedékeny F1",
    "Hierarchical F1": "Hierarchikus F1",
    "Per category": "Kategóriánként",
    "Per level": "Szintenként",
    "Language × domain": "Nyelv × terület",
    "Agreement": "Egyetértés",
    "Confusions": "Tévesztések",
    "Trend": "Alakulás",
    "Calibration": "Kalibráció",
    "Evaluate a labelled file": "Címkézett fájl értékelése",
    "Gold records": "Etalon rekordok",
    "Rows evaluated": "Értékelt sorok",
    "{0:,} {1} are not scored by {2} yet (about {3:,.0f} s).":
        "{0:,} {1} pontozása a(z) {2} modellel még hátravan (kb. {3:,.0f} s).",
    "Score them with {0}": "Pontozás ezzel: {0}",
    "matching records": "megfelelő rekord",
    "gold records": "etalon rekord",
    "Opening the queue scores them when that takes under {0} s; otherwise score them here or as a bulk job.":
        "A munkasor megnyitása pontozza őket, ha ez {0} s alatt megvan; különben pontozza itt vagy tömeges "
        "feladatként.",
    "Score {0:,} records now": "{0:,} rekord pontozása most",
    "built-in": "beépített",
    "imported": "importált",
    "Search by code or name (any language, accents and typos forgiven)":
        "Keresés kód vagy név szerint (bármely nyelven, ékezet és elírás megengedett)",
    # accounts and sign-in
    "Sign out": "Kijelentkezés",
    "Accounts": "Felhasználók",
    "Sign in": "Bejelentkezés",
    "Add an account": "Felhasználó felvétele",
    "Change an account": "Felhasználó módosítása",
    "Account": "Felhasználó",
    "Your password": "Az Ön jelszava",
    "Account name": "Felhasználónév",
    "Full name (shown)": "Teljes név (ez látszik)",
    "Password (at least 8 characters)": "Jelszó (legalább 8 karakter)",
    "Password again": "Jelszó újra",
    "Create the account": "Felhasználó létrehozása",
    "Account changes": "A felhasználók változásai",
    "Current password": "Jelenlegi jelszó",
    "New password": "Új jelszó",
    "Change my password": "Jelszavam módosítása",
    "This workspace has no accounts: it runs in **single-user mode**, where the person at this machine types a "
    "name and picks a role. Create the first account, an administrator, to make the workbench a team's: from then "
    "on everyone signs in, each label records the signed-in account, and each role may do only its own work. "
    "Labels made before keep their typed names.":
        "Ezen a munkaterületen nincs felhasználó: **egyfelhasználós módban** fut, ahol a gép előtt ülő beírja a "
        "nevét és szerepkört választ. Hozza létre az első felhasználót, egy adminisztrátort, hogy a munkapad egy "
        "csapaté legyen: ettől kezdve mindenki bejelentkezik, minden címke a bejelentkezett felhasználót rögzíti, "
        "és minden szerepkör csak a saját munkáját végezheti. A korábbi címkék megtartják a beírt neveket.",
    "What the person types to sign in; every label they make records it.":
        "Ezt írja be bejelentkezéskor; minden címkéje ezt rögzíti.",
    "account": "felhasználó",
    "name": "név",
    "role": "szerepkör",
    "status": "állapot",
    "last sign-in": "utolsó bejelentkezés",
    "Set role": "Szerepkör beállítása",
    "Set password": "Jelszó beállítása",
    "Sign-in is switched off for this session (WORKBENCH_SIGN_IN=off).":
        "A bejelentkezés ki van kapcsolva ebben a munkamenetben (WORKBENCH_SIGN_IN=off).",
    "The two passwords differ.": "A két jelszó eltér.",
    "Account '{0}' created ({1}).": "A(z) '{0}' felhasználó létrejött ({1}).",
    "disabled": "letiltva",
    "active": "aktív",
    "Enable": "Engedélyezés",
    "Disable (the account can no longer sign in; its labels stay)":
        "Letiltás (nem jelentkezhet be többé; a címkéi megmaradnak)",
    "Your password is changed.": "A jelszava megváltozott.",
    "'{0}' is now {1}.": "'{0}' mostantól: {1}.",
    "Password of '{0}' set.": "'{0}' jelszava beállítva.",
    "Forgot your password? An administrator sets a new one (Accounts page, or `python -m core users passwd NAME`).":
        "Elfelejtette a jelszavát? Egy adminisztrátor újat állít be (Felhasználók oldal, vagy "
        "`python -m core users passwd NAME`).",
    "This workbench serves a network and has no accounts yet. An administrator creates the first one on the "
    "server: `python -m core users add NAME --role admin`.":
        "Ez a munkapad hálózatot szolgál ki, és még nincs felhasználója. Az elsőt egy adminisztrátor hozza létre a "
        "szerveren: `python -m core users add NAME --role admin`.",
    "Password": "Jelszó",
    "Single-user mode: nobody signs in. A team creates accounts on the Accounts page; then everyone signs in and "
    "each role does its own work.":
        "Egyfelhasználós mód: senki sem jelentkezik be. Egy csapat a Felhasználók oldalon hoz létre felhasználókat; "
        "ettől kezdve mindenki bejelentkezik, és minden szerepkör a saját munkáját végzi.",
    "Signed in as **{user}**, {role}.": "Bejelentkezve: **{user}**, {role}.",
    "For these roles: {0}.": "Ezeknek a szerepköröknek: {0}.",
    "Administrator": "Adminisztrátor",
    "Create the team's accounts and give each its role: experts label, librarians import and bulk-classify, "
    "leads assign work, check quality and decide which model is used.":
        "Létrehozza a csapat felhasználóit, és mindegyiknek szerepkört ad: a szakértők címkéznek, a könyvtárosok "
        "importálnak és tömegesen soroltatnak be, a vezetők kiosztják a munkát, ellenőrzik a minőséget és "
        "eldöntik, melyik modell legyen használatban.",
    "Sign-in failed": "Sikertelen bejelentkezés",
    "wrong account name or password (after five wrong passwords in a row an account waits five minutes)":
        "hibás felhasználónév vagy jelszó (öt egymást követő hibás jelszó után a felhasználó öt percig vár)",
    "Sign in first.": "Előbb jelentkezzen be.",
    # the team
    "Team": "Csapat",
    "Assign the open queue as a labelling round": "A nyitott munkasor kiosztása címkézési körként",
    "Coded twice (blind)": "Kétszer kódolva (vakon)",
    "Known-answer records mixed in": "Bekevert ismert válaszú rekordok",
    "Show model suggestions on records coded twice": "Modelljavaslatok a kétszer kódolt rekordokon",
    "Start the round": "A kör indítása",
    "Resolve into a gold label": "Döntés etalon címkéről",
    "Another code: open its node in the hierarchy browser (queue 'Disagreements to resolve') and press 'Gold "
    "label: this node'.":
        "Más kód: nyissa meg a csomópontját a hierarchiaböngészőben (a 'Disagreements to resolve' munkasorban), és "
        "nyomja meg az 'Etalon címke: ez a csomópont' gombot.",
    "Annotators (names separated by commas)": "Címkézők (nevek vesszővel elválasztva)",
    "Records already resolved into gold labels; each annotator's accuracy on them is on the Team page.":
        "Már etalon címkét kapott rekordok; a címkézők pontossága rajtuk a Csapat oldalon látható.",
    "no code (rejected)": "nincs kód (elutasítva)",
    "Label in the imported file: ": "Címke az importált fájlban: ",
    ":material/visibility_off: Blind: the other labels on this record show once every annotator of it has "
    "labelled it.":
        ":material/visibility_off: Vak kódolás: a rekord többi címkéje akkor látszik, ha minden kijelölt címkéző "
        "címkézte.",
    "Gold label: this node": "Etalon címke: ez a csomópont",
    "Resolved already (by {0}); a new gold label replaces it.":
        "Már eldöntve ({0}); egy új etalon címke felülírja.",
    "Gold: {0} ({1})": "Etalon: {0} ({1})",
    "Round #{0}: {1:,} records for {2} annotators, {3:,} of them coded twice, {4:,} known-answer records.":
        "#{0} kör: {1:,} rekord {2} címkézőnek, ebből {3:,} kétszer kódolva, {4:,} ismert válaszú rekord.",
    "This round shows no model suggestions on records coded twice.":
        "Ebben a körben a kétszer kódolt rekordokon nincs modelljavaslat.",
    "**Per category: the model's F1 beside the experts' agreement (the human ceiling)**":
        "**Kategóriánként: a modell F1-e a szakértők egyetértése mellett (az emberi plafon)**",
    "**Per level**": "**Szintenként**",
    "**Per pair of experts**": "**Szakértőpáronként**",
    "Records coded twice": "Kétszer kódolt rekordok",
    "Exact agreement": "Pontos egyezés",
    "Cohen's kappa (mean)": "Cohen-féle kappa (átlag)",
    "Krippendorff's alpha": "Krippendorff-féle alfa",
    "Alpha, hierarchical": "Alfa, hierarchikus",
    "Alpha compares label sets by the Jaccard distance; the hierarchical alpha by the path between codes in the "
    "taxonomy (siblings disagree less than fields). With suggestions on screen: {0} records, alpha {1}; without: "
    "{2} records, alpha {3}.":
        "Az alfa a címkehalmazokat Jaccard-távolsággal veti össze; a hierarchikus alfa a kódok közti úttal az "
        "osztályozási rendszerben (a testvérek kevésbé térnek el, mint a területek). Javaslatokkal a képernyőn: {0} "
        "rekord, alfa {1}; javaslatok nélkül: {2} rekord, alfa {3}.",
    "Labelling rounds": "Címkézési körök",
    "To resolve": "Eldöntendő",
    "No round yet: on the Annotate page, open a queue and assign it as a labelling round.":
        "Még nincs kör: a Címkézés oldalon nyisson meg egy munkasort, és ossza ki címkézési körként.",
    "Round": "Kör",
    "No expert has labelled a record of this taxonomy yet.":
        "Ebben az osztályozási rendszerben még egy szakértő sem címkézett rekordot.",
    "A flag needs evidence, never speed alone: faster than the team's median, the top suggestion accepted at least "
    "80 % of the time, and either under 60 % right on at least 5 known-answer records or at least 40 % of at "
    "least 5 reviewed labels overturned. Working time leaves out pauses over ten minutes.":
        "Jelzéshez bizonyíték kell, sosem elég a gyorsaság: gyorsabb a csapat mediánjánál, legalább az esetek 80 "
        "%-ában az első javaslatot fogadja el, és vagy legalább 5 ismert válaszú rekordon 60 % alatt van a "
        "találati aránya, vagy legalább 5 áttekintett címkéjének legalább 40 %-át felülbírálták. A munkaidőbe a tíz "
        "percnél hosszabb szünetek nem számítanak.",
    "{0}: labelling rounds, agreement and each annotator's work.":
        "{0}: címkézési körök, egyetértés és az egyes címkézők munkája.",
    "{0:,} records where the experts disagree and no gold label exists: open the queue 'Disagreements to resolve' "
    "on the Annotate page.":
        "{0:,} rekord, amelyen a szakértők nem értenek egyet, és nincs etalon címkéje: nyissa meg a "
        "'Disagreements to resolve' munkasort a Címkézés oldalon.",
    "done": "kész",
    "{0} may be accepting suggestions without reading them: {1}.":
        "{0} talán olvasás nélkül fogadja el a javaslatokat: {1}.",
    "records / hour": "rekord / óra",
    "s / record": "s / rekord",
    "agreement": "egyetértés",
    "known-answer accuracy": "pontosság ismert válaszon",
    "top suggestion accepted": "első javaslat elfogadva",
    "overturned in review": "felülbírálva",
    "Disagreements to resolve (leads)": "Eldöntendő nézeteltérések (vezetők)",
    # figures a lead can trust, queues of imported labels, rows never lost
    "{0} was trained on this record: its confidence here is not evidence of how it does on new records.":
        "A(z) {0} modellt ezen a rekordon tanították: az itteni magabiztossága nem mutatja, milyen új rekordokon.",
    "No import holds records for {0} yet: import a file on the Import page, or send a bulk job's rows to this "
    "taxonomy on the Bulk classify page.":
        "Még egyetlen importálás sem tartalmaz rekordot ehhez: {0}. Importáljon fájlt az Importálás oldalon, vagy "
        "küldje ide egy tömeges feladat sorait a Tömeges besorolás oldalon.",
    "all languages": "minden nyelv",
    "Only imported labels not yet confirmed": "Csak a még meg nem erősített importált címkék",
    "Records whose imported file gave them a label that no expert has confirmed or corrected yet. Without this, "
    "the queue holds every record no expert has labelled, imported labels included.":
        "Azok a rekordok, amelyek az importált fájlból kaptak címkét, de szakértő még nem erősítette meg vagy "
        "javította. Enélkül a munkasor minden olyan rekordot tartalmaz, amelyet szakértő még nem címkézett, az "
        "importált címkéjűeket is.",
    "This queue is empty.": "Ez a munkasor üres.",
    " (the first {0:,} of {1:,} matching records; reopen the queue for more)":
        " (az első {0:,} a(z) {1:,} illeszkedő rekordból; a többihez nyissa meg újra a munkasort)",
    "Labelled {labelled} · skipped {skipped} · remaining {remaining} · record {position} of {total}":
        "Címkézve {labelled} · kihagyva {skipped} · hátra {remaining} · {position}. rekord ennyiből: {total}",
    "Saved (suggestion accepted)": "Mentve (javaslat elfogadva)",
    "Saved": "Mentve",
    "Saved: none of the suggestions fits": "Mentve: egyik javaslat sem illik",
    "Skipped": "Kihagyva",
    "Undone": "Visszavonva",
    "Note saved": "Megjegyzés mentve",
    "record {0}": "rekord: {0}",
    "Send this job's records to the Annotate queues of": "A feladat rekordjainak küldése ennek a címkézési "
                                                         "munkasoraiba:",
    "Send": "Küldés",
    "Import #{0} is now in the queues of {1} (Annotate → By import batch).":
        "A(z) #{0} importálás mostantól a(z) {1} munkasoraiban van (Címkézés → Importálási tétel szerint).",
    "Import #{0} is in the queues of {1} already.": "A(z) #{0} importálás már a(z) {1} munkasoraiban van.",
    "{0:,} of the file's {1:,} rows were not classified: {2:,} classified + {0:,} left out. Why, row by row":
        "A fájl {1:,} sorából {0:,} nem lett besorolva: {2:,} besorolva + {0:,} kihagyva. Az okok soronként",
    "The first {0:,} reasons are listed; the import's report on the Import page has the same list.":
        "Az első {0:,} ok látható; az Importálás oldal jelentése ugyanezt a listát tartalmazza.",
    "Every gold record is one {0} was trained on: there is nothing to measure it on yet. Label records it has not "
    "seen.":
        "Minden etalon rekordon tanították a(z) {0} modellt: még nincs min mérni. Címkézzen olyan rekordokat, "
        "amelyeket nem látott.",
    "gold": "etalon",
    "Against the model in use ({0}): ": "A használatban lévő modellhez ({0}) képest: ",
    "{0} keeps no fingerprints of its training texts: these figures may include records it was trained on.":
        "A(z) {0} nem őrzi tanítószövegei ujjlenyomatát: ezek a számok tartalmazhatnak olyan rekordokat, amelyeken "
        "tanították.",
    "{0:,} gold record(s) left out: {1} was trained on their text, so its figures there would say nothing about new "
    "records.":
        "{0:,} etalon rekord kimaradt: a(z) {1} modellt a szövegükön tanították, így az ottani számai semmit sem "
        "mondanának új rekordokról.",
    "{0} gold records · predicted {1} times · ": "{0} etalon rekord · {1}-szer jósolva · ",
    "no gold data": "nincs etalon adat",
    "Queue · {0} · {1:,} records (open to change)": "Munkasor · {0} · {1:,} rekord (kinyitva módosítható)",
    "found records": "talált rekordok",
    # figures in words (core.work.versions.figure_line, verdict_line), routing notes, jobs
    "evaluation records": "értékelő rekord",
    "training records": "tanítórekord",
    "no {0} yet": "még nincs {0}",
    "micro F1": "mikro F1",
    "macro F1": "makro F1",
    "weighted F1": "súlyozott F1",
    "(95 % interval {0:.2f}-{1:.2f})": "(95 %-os intervallum: {0:.2f}-{1:.2f})",
    "on {0:,} {1}": "{0:,} {1} alapján",
    "{0} record(s); at least {1} are needed": "{0} rekord; legalább {1} kell",
    "no category has {0} gold records": "egyetlen kategóriának sincs {0} etalon rekordja",
    "Not enough evidence for a verdict: {0}.": "Nincs elég bizonyíték az ítélethez: {0}.",
    "Better": "Jobb",
    "Worse": "Rosszabb",
    "No clear difference": "Nincs egyértelmű különbség",
    "{0}: micro F1 {1:.3f} → {2:.3f} (difference {3:+.3f}, 95 % interval {4:+.3f} to {5:+.3f}, {6:,} records)":
        "{0}: mikro F1 {1:.3f} → {2:.3f} (különbség {3:+.3f}, 95 %-os intervallum {4:+.3f} és {5:+.3f} között, "
        "{6:,} rekord)",
    "{0} categories have fewer than {1} records: not enough evidence there":
        "{0} kategóriában {1}-nél kevesebb rekord van: ott nincs elég bizonyíték",
    "could not check which records the model was trained on: its folder keeps no fingerprints of its training "
    "texts":
        "nem ellenőrizhető, mely rekordokon tanították a modellt: a mappája nem őrzi tanítószövegei ujjlenyomatát",
    "{0:,} record(s) left out: the model was trained on them": "{0:,} rekord kimaradt: a modellt ezeken tanították",
    "10-fold cross-validation": "10-szeres keresztvalidáció",
    "5-fold cross-validation": "5-szörös keresztvalidáció",
    "3-fold cross-validation": "3-szoros keresztvalidáció",
    "a 10 % split the model left out": "a modell által kihagyott 10 %-os rész",
    "{0} ({1}; the evaluation set is still small)": "{0} ({1}; az értékelő halmaz még kicsi)",
    "Training #{0} · {1} · {2}": "#{0} tanítás · {1} · {2}",
    "running": "fut",
    "queued": "várakozik",
    "cancelling": "leállítás alatt",
    "failed": "sikertelen",
    "cancelled": "leállítva",
    "interrupted": "megszakadt",
    "reading labels": "címkék beolvasása",
    "encoding records": "rekordok kódolása",
    "fitting": "illesztés",
    "evaluating on the evaluation set": "értékelés az értékelő halmazon",
    "saving": "mentés",
    "starting": "indul",
    " · about {0:,.0f} s left": " · kb. {0:,.0f} mp van hátra",
    "since {0} was trained": "a(z) {0} tanítása óta",
    "and the model in use was not trained on them": "és a használatban lévő modellt nem ezeken tanították",
    "{0}: the model in use for {1} records, promoted by {2} on {3}.":
        "{0}: a(z) {1} rekordokhoz használt modell, élesítette: {2}, {3}.",
    "{0}: the model in use for records of every language, promoted by {1} on {2}.":
        "{0}: minden nyelv rekordjaihoz használt modell, élesítette: {1}, {2}.",
    "Zero-shot: scored by similarity to the categories' names and descriptions, not learnt from labelled records; "
    "treat as a hint.":
        "Zero-shot: a kategóriák nevéhez és leírásához való hasonlóság alapján, nem címkézett rekordokból tanulva; "
        "csak tájékoztató.",
    "{0} was trained for {1}: a lead can promote it for {1} on the Models page.":
        "A(z) {0} modellt {1} nyelvre tanították: egy vezető élesítheti {1} nyelvre a Modellek oldalon.",
    "Your labels teach the next version (train it on the Models page).":
        "Az Ön címkéiből tanul a következő változat (a Modellek oldalon tanítható).",
    "Cross-lingual: {0} reads {1} through a multilingual encoder, from the categories' names and descriptions and "
    "from labels in {2}; it is not measured on {1} records: treat as a hint.":
        "Nyelvek közötti modell: a(z) {0} többnyelvű kódolóval olvassa a(z) {1} szöveget, a kategóriák neveiből és "
        "leírásaiból, valamint {2} nyelvű címkékből tanulva; {1} rekordokon nincs mérve: csak tippnek vegye.",
    "No model in use is trained for {0} records: {1} ({2}) gives a low-confidence hint.":
        "Egyik használatban lévő modellt sem tanították {0} rekordokra: a(z) {1} ({2}) csak bizonytalan tippet ad.",
    "Hungarian": "magyar",
    "English": "angol",
    "Danish": "dán",
    "German": "német",
    "French": "francia",
    "Slovak": "szlovák",
    "Romanian": "román",
    "Polish": "lengyel",
    "Czech": "cseh",
    "Spanish": "spanyol",
    "Italian": "olasz",
    "With this rule: **{0:,}** machine-accepted, **{1:,}** to the expert queue, {2:,} already labelled.":
        "Ezzel a szabállyal: **{0:,}** gépi elfogadás, **{1:,}** a szakértői munkasorba, {2:,} már címkézett.",
    "{0:,} record(s) are in a language the model was not trained for: they go to the experts, never "
    "machine-accepted.":
        "{0:,} rekord olyan nyelvű, amelyre a modellt nem tanították: a szakértőkhöz kerülnek, gépi elfogadás "
        "nélkül.",
    "{0:,} confident record(s) lie far from the model's training data (too few known words, or no similar training "
    "record): they go to the experts.":
        "{0:,} magabiztos rekord messze esik a modell tanítóadataitól (kevés ismert szó, vagy nincs hasonló "
        "tanítórekord): a szakértőkhöz kerülnek.",
    "**{0:,}** of the accepted disagree with the label in the file.":
        "Az elfogadottak közül **{0:,}** eltér a fájlban lévő címkétől.",
    "#{0} Importing the file · {1:,} rows read ({2:.0%})": "#{0} A fájl importálása · {1:,} sor beolvasva ({2:.0%})",
    " · loading the models": " · a modellek betöltése",
    "Stops at the next step (within seconds); the rows done stay done, and Resume goes on from there.":
        "A következő lépésnél áll meg (másodperceken belül); a kész sorok megmaradnak, a Folytatás onnan halad "
        "tovább.",
    "Go on from where the job stopped (interrupted, cancelled or failed): the rows done stay done.":
        "Folytatás onnan, ahol a feladat megállt (megszakadt, leállították vagy sikertelen): a kész sorok "
        "megmaradnak.",
    "Job #{0} started: its progress is below.": "A(z) #{0} feladat elindult: az előrehaladása lent látható.",
    "not scored by this model": "ez a modell nem pontozza",
    "Children ({0}):": "Gyermekek ({0}):",
    "Top level ({0}):": "Legfelső szint ({0}):",
    "{0} {1} · level {2} · F1 green ≥ {3:.2f}, yellow ≥ {4:.2f}, red below, blue: no gold data":
        "{0} {1} · {2}. szint · F1 zöld ≥ {3:.2f}, sárga ≥ {4:.2f}, alatta piros, kék: nincs etalon adat",
    "F1": "F1",
    "good": "jó",
    "fair": "közepes",
    "poor": "gyenge",
    "no data": "nincs adat",
    "mean confidence in the bin": "átlagos magabiztosság a sávban",
    "share correct": "helyes arány",
    # the Performance page's table headers
    "code": "kód", "level": "szint", "path": "útvonal", "support": "etalon", "predicted": "jósolt",
    "tp": "VP", "fp": "HP", "fn": "HN", "precision": "pontosság", "recall": "felidézés", "f1": "F1",
    "lenient_precision": "engedékeny pontosság", "lenient_recall": "engedékeny felidézés",
    "lenient_f1": "engedékeny F1", "samples": "minták", "group": "csoport", "model": "modell", "version": "változat",
    "records": "rekordok", "expected calibration error": "várható kalibrációs hiba", "from": "ettől", "to": "eddig",
    "confidence": "magabiztosság", "accuracy": "pontosság (arány)", "micro_f1": "mikro F1", "macro_f1": "makro F1",
    "weighted_f1": "súlyozott F1", "lenient_micro_f1": "engedékeny mikro F1",
    "hierarchical_micro_f1": "hierarchikus mikro F1", "gold name": "etalon neve",
    "predicted name": "jósolt neve", "count": "darab", "kappa": "kappa", "expert_only": "csak szakértő",
    "model_only": "csak modell", "period": "időszak", "labels": "címkék", "cumulative_labels": "összes címke",
    "period_micro_f1": "időszak mikro F1", "cumulative_micro_f1": "összesített mikro F1", "language": "nyelv",
    "model_f1": "modell F1", "gold_records": "etalon rekordok", "double_coded": "kétszer kódolt",
    "expert_agreement": "szakértői egyetértés", "expert_alpha": "szakértői alfa", "gap": "különbség",
    "expert_a": "A szakértő", "expert_b": "B szakértő", "shared_records": "közös rekordok",
    "exact_agreement": "pontos egyetértés",
    # the Models page's tables
    "folder": "mappa", "kind": "fajta", "parent": "szülő", "in use": "használatban", "micro F1 today": "mikro F1 ma",
    "interval today": "intervallum ma", "eval records today": "értékelő rekordok ma",
    "left out (trained on)": "kihagyva (tanult rajtuk)", "trained on": "tanítórekordok",
    "micro F1 when trained": "mikro F1 tanításkor", "interval when trained": "intervallum tanításkor",
    "eval records when trained": "értékelő rekordok tanításkor", "cross-validated micro F1": "keresztvalidált mikro F1",
    "cross-validated interval": "keresztvalidált intervallum", "cross-validated records": "keresztvalidált rekordok",
    "against parent": "a szülőhöz képest", "calibration T": "kalibrációs T", "size MB": "méret (MB)",
    "by": "készítette", "created": "létrehozva", "category": "kategória", "evidence": "bizonyíték",
    "not enough evidence": "nincs elég bizonyíték", "better": "jobb", "worse": "rosszabb",
    "no clear difference": "nincs egyértelmű különbség", "not checked": "nincs ellenőrizve",
}


def language() -> str:
    from ui.common import session

    return getattr(session(), "ui", "en")


def t(text: str) -> str:
    """``text`` in the interface language (English when no Hungarian entry exists)."""
    return HU.get(text, text) if language() == "hu" else text


def translated(mapping: dict) -> dict:
    """``mapping`` with its texts in the interface language, for a ``format_func`` (translate when
    drawing: a format function may run where the session is not known)."""
    return {key: t(text) for key, text in mapping.items()}
