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
    "Where each role starts": "Hol kezd az egyes szerepkör",
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
    "supervised": "felügyelt",
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
}


def language() -> str:
    from ui.common import session

    return getattr(session(), "ui", "en")


def t(text: str) -> str:
    """``text`` in the interface language (English when no Hungarian entry exists)."""
    return HU.get(text, text) if language() == "hu" else text
