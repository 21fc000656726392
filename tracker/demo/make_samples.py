"""Generate the sample publications that `regwatch demo` serves (tracker/demo/data/).

Everything is FICTIONAL and written for this project: a "Code of Practice for Providers of
General-Purpose Widget Models" issued by a "Widget Office" under a "Widget Act". It exists
in two versions, a first draft (v1) and a final version (v2), each rendered as HTML and as
PDF (reportlab, A4) from the same Python structure below, so both formats carry the same
text. Around them: a news listing, Q&A pages and a robots.txt.

Changes from v1 to v2, which regwatch should detect (also written to data/CHANGES.md from
the CHANGES list below):

 1. Obligation strengthened: Measure 1.2, paragraph 1 "Signatories should update ..." ->
    "Signatories shall update ...".
 2. Deadline changed: Measure 2.2, paragraph 1 "within 15 days" -> "within 10 days".
 3. Threshold changed: Measure 1.1, paragraph 3 "10^24 floating-point operations" ->
    "10^25 floating-point operations" (superscript in both formats).
 4. Measure added: Measure 2.4 "Incident drills".
 5. Measure removed: Measure 1.4 "Publishing a dossier summary".
 6. Commitment renumbered, text kept: v1 "Commitment 4. Public transparency" (Measures 4.1,
    4.2) is v2 "Commitment 3. Public transparency" (Measures 3.1, 3.2), because v1's
    "Commitment 3. Cooperation with the Widget Office" is merged into Commitment 2: its only
    measure, "Measure 3.1. Single point of contact", becomes "Measure 2.5. Single point of
    contact" with the same text.
 7. Editorial rewording: Measure 1.3, paragraph 2 "in a timely manner" -> "promptly".
 8. Cosmetic: heading capitalisation "Commitment 2. Serious Incident Reporting" ->
    "Commitment 2. Serious incident reporting", and straight quotes "widget model" ->
    typographic quotes “widget model” in recital (d).
 9. Actor changed: Measure 2.3, paragraph 3 "The Widget Office may request ..." ->
    "The Commission may request ...".

Also different, as in any real revision: the status line under the title ("First draft,
14 March 2031" / "Final version, 2 July 2031"), the PDF running header ("Widget Office —
Draft" / "Widget Office — Final") and the HTML <title>.

Run `python tracker/demo/make_samples.py` to rewrite tracker/demo/data/ (same bytes on each
run: reportlab's invariant mode removes timestamps and random ids from the PDFs).
"""

from __future__ import annotations

import html
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from reportlab import rl_config
from reportlab.lib import colors
from reportlab.lib.enums import TA_JUSTIFY, TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import cm
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

rl_config.invariant = 1  # no creation dates or random document ids: same bytes on each run

DATA = Path(__file__).resolve().parent / "data"

# ---------------------------------------------------------------------------------------
# The list of v1 -> v2 changes (written to data/CHANGES.md).
# ---------------------------------------------------------------------------------------

CHANGES: list[tuple[str, str, str]] = [
    # (kind, where, what)
    ("Obligation strengthened", "Measure 1.2, paragraph 1",
     "“Signatories should update the model dossier …” becomes “Signatories shall update the model dossier …”."),
    ("Deadline changed", "Measure 2.2, paragraph 1",
     "“within 15 days after becoming aware of it” becomes “within 10 days after becoming aware of it”."),
    ("Threshold changed", "Measure 1.1, paragraph 3",
     "“10<sup>24</sup> floating-point operations” becomes “10<sup>25</sup> floating-point operations” "
     "(a superscript in HTML and PDF alike)."),
    ("Measure added", "Measure 2.4. Incident drills", "New measure with three paragraphs (v2 only)."),
    ("Measure removed", "Measure 1.4. Publishing a dossier summary", "Present in v1 only."),
    ("Commitment renumbered, text kept", "Commitment 4 → Commitment 3",
     "v1 “Commitment 4. Public transparency” (Measures 4.1 and 4.2) is v2 “Commitment 3. Public "
     "transparency” (Measures 3.1 and 3.2), with the same text: v1 “Commitment 3. Cooperation with "
     "the Widget Office” is merged into Commitment 2, its only measure “Measure 3.1. Single point "
     "of contact” becoming “Measure 2.5. Single point of contact” with the same text."),
    ("Editorial rewording", "Measure 1.3, paragraph 2",
     "“respond to requests from downstream providers in a timely manner” becomes “respond to "
     "requests from downstream providers promptly” (no change in substance)."),
    ("Cosmetic", "Commitment 2 heading; recital (d)",
     "“Commitment 2. Serious Incident Reporting” becomes “Commitment 2. Serious incident "
     "reporting”; straight quotes around \"widget model\" and \"signatory\" become typographic quotes."),
    ("Actor changed", "Measure 2.3, paragraph 3",
     "“The Widget Office may request signatories …” becomes “The Commission may request signatories …”."),
]

NOISE = [
    "Status line under the title: “First draft, 14 March 2031” / “Final version, 2 July 2031”.",
    "PDF running header: “Widget Office — Draft” / “Widget Office — Final”; HTML <title> likewise.",
    "news.html (v2) gains an item linking to /publications/qa-final.html.",
]

# ---------------------------------------------------------------------------------------
# The document structure. Inline markup in texts: <sup>..</sup>, <em>..</em> and [fn1]
# (a reference to note 1); nothing else, and no bare "&" or "<".
# ---------------------------------------------------------------------------------------


@dataclass
class Para:
    """A numbered paragraph ("1. ..."), numbered in order within its measure or appendix."""

    text: str


@dataclass
class Points:
    """Lettered points "(a) ...", "(b) ..." belonging to the paragraph before them."""

    items: list[str]


@dataclass
class Bullets:
    """An unnumbered bullet list."""

    items: list[str]


@dataclass
class Text:
    """An unnumbered paragraph."""

    text: str


@dataclass
class Grid:
    """A table: a caption, a header row and body rows (all with the same number of cells)."""

    caption: str
    header: list[str]
    rows: list[list[str]]


Block = Para | Points | Bullets | Text | Grid


@dataclass
class Measure:
    number: str
    title: str
    blocks: list[Block]


@dataclass
class Commitment:
    number: str
    title: str
    intro: list[Block]
    measures: list[Measure] = field(default_factory=list)


@dataclass
class Doc:
    version: int
    title: str
    status: str
    running_header: str
    preamble_intro: str
    recitals: list[str]
    commitments_intro: str
    commitments: list[Commitment]
    appendix_title: str
    appendix: list[Block]
    notes: list[str]


TITLE = "Code of Practice for Providers of General-Purpose Widget Models"


def document(version: int) -> Doc:
    """The code of practice as it reads in `version` (1: first draft, 2: final version)."""
    final = version == 2

    def v(first: str, second: str) -> str:
        return second if final else first

    recitals = [
        "The Widget Act lays down, in Articles 12 and 13 and in Annex IV, obligations for providers "
        "of general-purpose widget models placed on the market in the Union, in particular "
        "obligations to draw up and keep up to date technical documentation, to provide "
        "information to downstream providers and to report serious incidents.",
        "Article 13(4) of the Widget Act provides that providers may rely on codes of practice to "
        "demonstrate compliance with those obligations until harmonised standards are published. "
        "This Code is intended to serve that purpose and to contribute to the proper application "
        "of the Widget Act.",
        "The Widget Office has facilitated the drawing-up of this Code with the participation of "
        "providers, downstream providers, civil society organisations, academic experts and "
        "national market surveillance authorities, through working groups chaired by independent "
        "experts.",
        v('In this Code, the term "widget model" has the meaning given to it in Article 2(7) of the '
          'Widget Act, and "signatory" means a provider of a general-purpose widget model that has '
          'declared its adherence to this Code.',
          "In this Code, the term “widget model” has the meaning given to it in Article 2(7) of the "
          "Widget Act, and “signatory” means a provider of a general-purpose widget model that has "
          "declared its adherence to this Code."),
        "Adherence to this Code is voluntary. Providers that do not adhere to it remain free to "
        "demonstrate compliance with their obligations by other adequate means, which they are "
        "expected to explain to the Widget Office.",
        "The measures of this Code are proportionate to the size and resources of the provider. "
        "Small and medium-sized enterprises, including start-ups, may apply simplified ways of "
        "compliance, and the fee referred to in Measure 1.3 shall not exceed €100 per request when "
        "charged by them.",
    ]

    documentation = Commitment(
        "1",
        "Documentation",
        [
            Text(
                "Signatories commit to drawing up and keeping up to date documentation of their "
                "general-purpose widget models, as required by Article 12(1) of the Widget Act, and to "
                "making the relevant parts of it available to the Widget Office and to downstream "
                "providers."
            )
        ],
        [
            Measure(
                "1.1",
                "Drawing up the model dossier",
                [
                    Para(
                        "Signatories shall draw up, before placing a general-purpose widget model on the "
                        "market, a model dossier containing the information listed in this Measure. The "
                        "model dossier shall be drawn up in one of the official languages of the Union "
                        "and kept in an electronic format that can be searched and exported."
                    ),
                    Para("The model dossier shall contain at least:"),
                    Points(
                        [
                            "a general description of the model, including its intended tasks, the type "
                            "and nature of the systems in which it can be integrated, its release date "
                            "and its methods of distribution;",
                            "a description of the model's architecture, its number of parameters and the "
                            "modalities and formats of its inputs and outputs;",
                            "a description of the data used for training, testing and validation, "
                            "including the type and provenance of the data and the curation methods "
                            "applied;",
                            "the computational resources used to train the model, expressed as the number "
                            "of floating-point operations[fn1], together with the training time and the "
                            "hardware used;",
                            "the known or estimated energy consumption of the model during training.",
                        ]
                    ),
                    Para(
                        "Where the cumulative compute used to train the model exceeds "
                        + v("10<sup>24</sup>", "10<sup>25</sup>")
                        + " floating-point operations, the model dossier shall in addition contain "
                        "the information listed in Annex IV of the Widget Act, including a description "
                        "of the evaluation strategies applied and of the results of adversarial testing."
                    ),
                    Para(
                        "Signatories shall designate, within their organisation, a person responsible "
                        "for the completeness and accuracy of the model dossier."
                    ),
                ],
            ),
            Measure(
                "1.2",
                "Keeping the dossier up to date",
                [
                    Para(
                        v("Signatories should", "Signatories shall")
                        + " update the model dossier whenever they make a substantial modification to "
                        "the model, and at least once a year for as long as the model is made available "
                        "on the market."
                    ),
                    Para(
                        "Signatories shall retain each previous version of the model dossier for a "
                        "period of ten years after the model has been placed on the market, and shall "
                        "record the date of and the reason for each update."
                    ),
                    Para(
                        "Where an update concerns information already provided to downstream providers "
                        "under Measure 1.3, signatories shall inform those providers of the change."
                    ),
                ],
            ),
            Measure(
                "1.3",
                "Providing information to downstream providers",
                [
                    Para(
                        "Signatories shall make available to downstream providers who intend to "
                        "integrate the model into their systems the information they need to understand "
                        "the capabilities and limitations of the model and to comply with their own "
                        "obligations under the Widget Act."
                    ),
                    Para(
                        "Signatories shall respond to requests from downstream providers "
                        + v("in a timely manner", "promptly")
                        + ", and in any event within 30 days. Information shall be provided free of "
                        "charge or, for requests going beyond the items listed in the table below, for a "
                        "fee not exceeding €250 per request."
                    ),
                    Para(
                        "The following table sets out the minimum information to be provided, its "
                        "recipients and the timing of its provision:"
                    ),
                    Grid(
                        "Table 1. Minimum information to be provided",
                        ["Information item", "Recipient", "Timing"],
                        [
                            ["General description of the model", "Downstream providers and the Widget Office",
                             "Before placing on the market"],
                            ["Acceptable use policy and known limitations", "Downstream providers",
                             "Before placing on the market"],
                            ["Training compute and energy consumption", "The Widget Office", "On request"],
                            ["Updated sections of the model dossier", "Downstream providers concerned",
                             "Within 30 days of the update"],
                        ],
                    ),
                ],
            ),
        ],
    )
    if not final:
        documentation.measures.append(
            Measure(
                "1.4",
                "Publishing a dossier summary",
                [
                    Para(
                        "Signatories are encouraged to publish on their website a summary of the model "
                        "dossier, omitting confidential business information and trade secrets."
                    ),
                    Para(
                        "The summary should be written in plain language and should be updated whenever "
                        "the model dossier is updated in accordance with Measure 1.2."
                    ),
                ],
            )
        )

    single_point_of_contact = [
        Para(
            "Signatories shall designate a single point of contact for communication with the Widget "
            "Office and publish its contact details on their website."
        ),
        Para(
            "The single point of contact shall be able to communicate in English and in at least one "
            "other official language of the Union, and shall acknowledge receipt of any request from "
            "the Widget Office within five working days."
        ),
    ]

    incidents = Commitment(
        "2",
        v("Serious Incident Reporting", "Serious incident reporting"),
        [
            Text(
                "Signatories commit to keeping track of, documenting and reporting serious incidents "
                "involving their general-purpose widget models, and to taking corrective measures, in "
                "accordance with Article 13(2) of the Widget Act."
            )
        ],
        [
            Measure(
                "2.1",
                "Identifying serious incidents",
                [
                    Para(
                        "Signatories shall put in place processes to identify serious incidents, drawing "
                        "on information from their own monitoring, from downstream providers, from users "
                        "and from publicly available sources."
                    ),
                    Para("For the purposes of this Code, a serious incident includes, in particular:"),
                    Bullets(
                        [
                            "a malfunction of the model that directly or indirectly leads to the death of a "
                            "person or to serious harm to a person's health;",
                            "a serious and irreversible disruption of the management or operation of "
                            "critical infrastructure;",
                            "an infringement of obligations under Union law intended to protect "
                            "fundamental rights;",
                            "serious harm to property or to the environment;",
                            "a security breach resulting in the exfiltration of the model's weights.",
                        ]
                    ),
                    Para(
                        "Signatories shall keep a register of events that may qualify as serious "
                        "incidents, including events they have assessed as not qualifying, together with "
                        "the reasons for that assessment."
                    ),
                ],
            ),
            Measure(
                "2.2",
                "Reporting to the Widget Office",
                [
                    Para(
                        "Signatories shall report a serious incident to the Widget Office "
                        + v("within 15 days", "within 10 days")
                        + " after becoming aware of it. Where the incident involves the death of a "
                        "person, the report shall be made immediately and in any event not later than "
                        "2 days after the signatory became aware of it."
                    ),
                    Para(
                        "The report shall be made using the incident report form set out in Appendix 1. "
                        "Where complete information is not yet available, signatories shall submit an "
                        "initial report and complement it as further information becomes available."
                    ),
                    Para(
                        "Signatories shall designate a function responsible for the submission of "
                        "reports and shall ensure that this function can be reached at all times."
                    ),
                ],
            ),
            Measure(
                "2.3",
                "Corrective measures",
                [
                    Para(
                        "Following a serious incident, signatories shall investigate its causes and take "
                        "appropriate corrective measures, which may include retraining the model, "
                        "restricting access to it or withdrawing it from the market."
                    ),
                    Para(
                        "Signatories shall inform the Widget Office of the corrective measures taken or "
                        "planned, and of their expected effectiveness."
                    ),
                    Para(
                        v("The Widget Office", "The Commission")
                        + " may request signatories to provide further information on an incident or on "
                        "the corrective measures taken, and may recommend additional measures."
                    ),
                ],
            ),
        ],
    )
    if final:
        incidents.measures.append(
            Measure(
                "2.4",
                "Incident drills",
                [
                    Para(
                        "Signatories shall conduct, at least once a year, an exercise simulating a "
                        "serious incident involving their most capable general-purpose widget model, in "
                        "order to test their processes for identifying, reporting and remedying serious "
                        "incidents."
                    ),
                    Para(
                        "The exercise shall involve the function designated under Measure 2.2, paragraph "
                        "3, and the single point of contact designated under Measure 2.5."
                    ),
                    Para(
                        "Signatories shall document the lessons learned from each exercise and update "
                        "their processes accordingly."
                    ),
                ],
            )
        )
        incidents.measures.append(Measure("2.5", "Single point of contact", single_point_of_contact))
        cooperation = None
    else:
        cooperation = Commitment(
            "3",
            "Cooperation with the Widget Office",
            [
                Text(
                    "Signatories commit to cooperating with the Widget Office in the exercise of its "
                    "tasks under the Widget Act."
                )
            ],
            [Measure("3.1", "Single point of contact", single_point_of_contact)],
        )

    n = v("4", "3")
    transparency = Commitment(
        n,
        "Public transparency",
        [
            Text(
                "Signatories commit to informing the public about their general-purpose widget models "
                "in a manner that allows users and affected persons to understand the main "
                "characteristics of those models."
            )
        ],
        [
            Measure(
                f"{n}.1",
                "Publishing a model card",
                [
                    Para(
                        "Signatories shall publish, for each general-purpose widget model they place on "
                        "the market, a model card describing in plain language the model's intended "
                        "tasks, its main capabilities and limitations, and the languages it supports."
                    ),
                    Para(
                        "The model card shall be accessible free of charge and without registration, "
                        "in a format that meets recognised accessibility requirements."
                    ),
                ],
            ),
            Measure(
                f"{n}.2",
                "Publishing a summary of training content",
                [
                    Para(
                        "Signatories shall make publicly available a sufficiently detailed summary of "
                        "the content used for training the model, in accordance with Article 12(3) of the "
                        "Widget Act."
                    ),
                    Para(
                        "The summary shall list the main data collections used and describe other "
                        "sources in narrative form. It shall be updated when the model is retrained on "
                        "substantially different data."
                    ),
                    Para(
                        "Signatories shall not be required to disclose information that constitutes a "
                        "trade secret, provided that they make that information available to the Widget "
                        "Office on request."
                    ),
                ],
            ),
        ],
    )

    commitments = [documentation, incidents] + ([cooperation] if cooperation else []) + [transparency]

    appendix = [
        Text(
            "Signatories shall provide the following information when reporting a serious incident "
            "under Measure 2.2. Fields that cannot yet be completed shall be marked as pending and "
            "completed in a later report."
        ),
        Para("Name and contact details of the signatory and of its single point of contact."),
        Para("Name and version of the general-purpose widget model concerned."),
        Para("Date and time at which the incident occurred and at which the signatory became aware of it."),
        Para("Description of the incident, including the persons, property or infrastructure affected."),
        Para("Category of the incident, by reference to the list in Measure 2.1, paragraph 2."),
        Para("Initial assessment of the causes of the incident."),
        Para("Corrective measures taken or planned, and their timeline."),
        Para("Whether the report is an initial, intermediate or final report."),
    ]

    return Doc(
        version=version,
        title=TITLE,
        status=v("First draft, 14 March 2031", "Final version, 2 July 2031"),
        running_header=v("Widget Office — Draft", "Widget Office — Final"),
        preamble_intro="The signatories of this Code of Practice, having regard to the Widget Act, "
        "and whereas:",
        recitals=recitals,
        commitments_intro="The signatories commit to the following Commitments and to implementing "
        "the Measures set out under each of them.",
        commitments=commitments,
        appendix_title="Appendix 1. Incident report form",
        appendix=appendix,
        notes=[
            "Floating-point operations are counted over the whole training process, including "
            "pre-training, synthetic data generation and fine-tuning, and may be estimated in "
            "accordance with the method set out in Annex IV of the Widget Act."
        ],
    )


def letter(i: int) -> str:
    return "abcdefghijklmnopqrstuvwxyz"[i]


# ---------------------------------------------------------------------------------------
# HTML
# ---------------------------------------------------------------------------------------

STYLE = """body{font-family:Georgia,serif;max-width:46em;margin:0 auto;padding:0 1em;line-height:1.5}
.cookie-banner{background:#222;color:#fff;padding:.6em 1em;font-family:sans-serif;font-size:.9em}
.site-header nav ul{list-style:none;padding:0;display:flex;gap:1.2em}
.point{margin-left:2em}table{border-collapse:collapse}th,td{border:1px solid #999;padding:.3em .5em}
footer{border-top:1px solid #ccc;margin-top:3em;font-size:.85em;color:#555}"""


def page(title: str, body: str) -> str:
    """A full HTML page of the Widget Office site around `body` (the <main> content)."""
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title, quote=False)}</title>
<style>
{STYLE}
</style>
</head>
<body>
<div class="cookie-banner" role="dialog" aria-label="Cookie consent">
<p>This site uses cookies to measure its audience and remember your preferences. <a href="/private/cookie-policy.html">Cookie policy</a></p>
<button type="button">Accept all</button> <button type="button">Refuse</button>
</div>
<header class="site-header">
<a class="logo" href="/">Widget Office</a>
<nav aria-label="Main">
<ul>
<li><a href="/">Home</a></li>
<li><a href="/news.html">News</a></li>
<li><a href="/code.html">Code of Practice</a></li>
<li><a href="/code.pdf">Code of Practice (PDF)</a></li>
<li><a href="/private/intranet.html">Staff intranet</a></li>
</ul>
</nav>
</header>
<main>
{body}
</main>
<footer>
<p>© 2031 Widget Office — Avenue de l’Étoile 12, 1040 Bruxelles. All rights reserved. This is a fictional site used by the regwatch demo.</p>
<p><a href="/private/legal-notice.html">Legal notice</a> · <a href="/news.html">News</a></p>
</footer>
</body>
</html>
"""


def inline_html(text: str) -> str:
    """Source inline markup to HTML."""
    return re.sub(r"\[fn(\d+)\]", r'<sup class="fnref"><a href="#fn-\1" id="fnref-\1">\1</a></sup>', text)


def blocks_html(blocks: list[Block], indent: str = "") -> list[str]:
    out: list[str] = []
    n = 0
    for b in blocks:
        if isinstance(b, Para):
            n += 1
            out.append(f'<p class="para"><span class="num">{n}.</span> {inline_html(b.text)}</p>')
        elif isinstance(b, Text):
            out.append(f"<p>{inline_html(b.text)}</p>")
        elif isinstance(b, Points):
            for i, item in enumerate(b.items):
                out.append(f'<p class="point">({letter(i)}) {inline_html(item)}</p>')
        elif isinstance(b, Bullets):
            out.append("<ul>")
            out += [f"<li>{inline_html(item)}</li>" for item in b.items]
            out.append("</ul>")
        elif isinstance(b, Grid):
            out.append("<table>")
            out.append(f"<caption>{inline_html(b.caption)}</caption>")
            out.append("<thead><tr>" + "".join(f'<th scope="col">{c}</th>' for c in b.header) + "</tr></thead>")
            out.append("<tbody>")
            out += ["<tr>" + "".join(f"<td>{inline_html(c)}</td>" for c in row) + "</tr>" for row in b.rows]
            out.append("</tbody>")
            out.append("</table>")
    return [indent + line for line in out]


def slug(number: str) -> str:
    return number.replace(".", "-")


def code_html(doc: Doc) -> str:
    label = "First draft" if doc.version == 1 else "Final version"
    lines = [
        '<p class="breadcrumb"><a href="/">Home</a> › <a href="/code.html">Code of Practice</a> · '
        '<a href="/code.pdf">Download as PDF</a></p>',
        "<article>",
        f"<h1>{doc.title}</h1>",
        f'<p class="status">{doc.status}</p>',
        '<section class="preamble">',
        "<h2>Preamble</h2>",
        f"<p>{doc.preamble_intro}</p>",
    ]
    lines += [f'<p class="recital">({letter(i)}) {inline_html(r)}</p>' for i, r in enumerate(doc.recitals)]
    lines += ["</section>", f"<p>{doc.commitments_intro}</p>"]
    for c in doc.commitments:
        lines.append(f'<section class="commitment" id="commitment-{slug(c.number)}">')
        lines.append(f"<h2>Commitment {c.number}. {c.title}</h2>")
        lines += blocks_html(c.intro)
        for m in c.measures:
            lines.append(f'<section class="measure" id="measure-{slug(m.number)}">')
            lines.append(f"<h3>Measure {m.number}. {m.title}</h3>")
            lines += blocks_html(m.blocks)
            lines.append("</section>")
        lines.append("</section>")
    lines.append('<section class="appendix" id="appendix-1">')
    lines.append(f"<h2>{doc.appendix_title}</h2>")
    lines += blocks_html(doc.appendix)
    lines.append("</section>")
    lines.append('<section class="notes">')
    lines.append("<h2>Notes</h2>")
    lines.append('<ol class="footnotes">')
    lines += [f'<li id="fn-{i}">{inline_html(t)}</li>' for i, t in enumerate(doc.notes, 1)]
    lines.append("</ol>")
    lines.append("</section>")
    lines.append("</article>")
    return page(f"{doc.title} — {label} | Widget Office", "\n".join(lines))


# ---------------------------------------------------------------------------------------
# PDF
# ---------------------------------------------------------------------------------------

BODY = ParagraphStyle("body", fontName="Times-Roman", fontSize=10, leading=12.6, alignment=TA_JUSTIFY,
                      spaceAfter=4)
POINT = ParagraphStyle("point", parent=BODY, leftIndent=0.9 * cm, spaceAfter=3)
BULLET = ParagraphStyle("bullet", parent=BODY, leftIndent=0.9 * cm, bulletIndent=0.35 * cm, spaceAfter=3)
CELL = ParagraphStyle("cell", parent=BODY, fontSize=9.5, leading=11.5, alignment=TA_LEFT, spaceAfter=0)
HEAD_CELL = ParagraphStyle("headcell", parent=CELL, fontName="Times-Bold")
CAPTION = ParagraphStyle("caption", parent=BODY, fontName="Times-Italic", fontSize=9.5, spaceBefore=4,
                         alignment=TA_LEFT)
TITLE_STYLE = ParagraphStyle("title", fontName="Helvetica-Bold", fontSize=20, leading=25, spaceAfter=8)
STATUS = ParagraphStyle("status", fontName="Helvetica", fontSize=11, leading=14, spaceAfter=14,
                        textColor=colors.HexColor("#444444"))
H_COMMITMENT = ParagraphStyle("commitment", fontName="Helvetica-Bold", fontSize=14, leading=18,
                              spaceBefore=12, spaceAfter=6)
H_MEASURE = ParagraphStyle("measure", fontName="Helvetica-Bold", fontSize=12, leading=15, spaceBefore=8,
                           spaceAfter=4)
NOTE = ParagraphStyle("note", parent=BODY, fontSize=8.5, leading=10.5)


def inline_pdf(text: str) -> str:
    """Source inline markup to reportlab's paragraph markup."""
    text = text.replace("<sup>", "<super>").replace("</sup>", "</super>")
    text = text.replace("<em>", "<i>").replace("</em>", "</i>")
    return re.sub(r"\[fn(\d+)\]", r"<super>\1</super>", text)


def blocks_pdf(blocks: list[Block]) -> list:
    out: list = []
    n = 0
    for b in blocks:
        if isinstance(b, Para):
            n += 1
            out.append(Paragraph(f"{n}. {inline_pdf(b.text)}", BODY))
        elif isinstance(b, Text):
            out.append(Paragraph(inline_pdf(b.text), BODY))
        elif isinstance(b, Points):
            out += [Paragraph(f"({letter(i)}) {inline_pdf(t)}", POINT) for i, t in enumerate(b.items)]
        elif isinstance(b, Bullets):
            out += [Paragraph(inline_pdf(t), BULLET, bulletText="•") for t in b.items]
        elif isinstance(b, Grid):
            data = [[Paragraph(c, HEAD_CELL) for c in b.header]]
            data += [[Paragraph(inline_pdf(c), CELL) for c in row] for row in b.rows]
            table = Table(data, colWidths=[6.2 * cm, 5.4 * cm, 4.6 * cm], repeatRows=1, hAlign="LEFT")
            table.setStyle(
                TableStyle(
                    [
                        ("GRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#888888")),
                        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e6e6e6")),
                        ("VALIGN", (0, 0), (-1, -1), "TOP"),
                        ("TOPPADDING", (0, 0), (-1, -1), 3),
                        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
                    ]
                )
            )
            out.append(KeepTogether([Paragraph(b.caption, CAPTION), table, Spacer(1, 6)]))
    return out


def code_pdf(doc: Doc, path: Path) -> None:
    def decorate(canvas, pdf_doc) -> None:
        canvas.saveState()
        width, height = A4
        canvas.setFont("Helvetica", 8.5)
        canvas.setFillColor(colors.HexColor("#444444"))
        canvas.drawString(2.0 * cm, height - 1.4 * cm, doc.running_header)
        canvas.drawRightString(width - 2.0 * cm, height - 1.4 * cm, "Code of Practice — Widget Models")
        canvas.setStrokeColor(colors.HexColor("#999999"))
        canvas.setLineWidth(0.4)
        canvas.line(2.0 * cm, height - 1.55 * cm, width - 2.0 * cm, height - 1.55 * cm)
        canvas.drawCentredString(width / 2, 1.2 * cm, f"Page {canvas.getPageNumber()}")
        canvas.restoreState()

    story: list = [Paragraph(doc.title, TITLE_STYLE), Paragraph(doc.status, STATUS)]
    story.append(Paragraph("Preamble", H_COMMITMENT))
    story.append(Paragraph(doc.preamble_intro, BODY))
    story += [Paragraph(f"({letter(i)}) {inline_pdf(r)}", POINT) for i, r in enumerate(doc.recitals)]
    story.append(Spacer(1, 4))
    story.append(Paragraph(doc.commitments_intro, BODY))
    for c in doc.commitments:
        story.append(Paragraph(f"Commitment {c.number}. {c.title}", H_COMMITMENT))
        story += blocks_pdf(c.intro)
        for m in c.measures:
            story.append(Paragraph(f"Measure {m.number}. {m.title}", H_MEASURE))
            story += blocks_pdf(m.blocks)
    story.append(Paragraph(doc.appendix_title, H_COMMITMENT))
    story += blocks_pdf(doc.appendix)
    story.append(Paragraph("Notes", H_MEASURE))
    story += [Paragraph(f"<super>{i}</super> {inline_pdf(t)}", NOTE) for i, t in enumerate(doc.notes, 1)]

    pdf = SimpleDocTemplate(
        str(path),
        pagesize=A4,
        leftMargin=2.0 * cm,
        rightMargin=2.0 * cm,
        topMargin=2.1 * cm,
        bottomMargin=1.9 * cm,
        title=f"{doc.title} — {doc.status}",
        author="Widget Office",
        subject="Fictional sample publication for the regwatch demo",
        creator="regwatch tracker/demo/make_samples.py",
        invariant=1,
    )
    pdf.build(story, onFirstPage=decorate, onLaterPages=decorate)


# ---------------------------------------------------------------------------------------
# News listing and Q&A pages
# ---------------------------------------------------------------------------------------

NEWS_FINAL = {
    "date": "2 July 2031",
    "title": "Final Code of Practice for general-purpose widget models published",
    "summary": "The independent chairs have delivered the final version of the Code of Practice. "
    "Providers may now sign it.",
    "links": [("/code.html", "Read the Code"), ("/code.pdf", "PDF"),
              ("/publications/qa-final.html", "Questions and answers on the final Code")],
}
NEWS_DRAFT = {
    "date": "14 March 2031",
    "title": "First draft of the Code of Practice published for consultation",
    "summary": "Participants in the working groups are invited to comment on the first draft until "
    "11 April 2031.",
    "links": [("/code.html", "Read the Code"), ("/code.pdf", "PDF"),
              ("/publications/qa-first-draft.html", "Questions and answers on the first draft")],
}
NEWS_KICKOFF = {
    "date": "3 February 2031",
    "title": "Kick-off plenary for the drawing-up of the Code of Practice",
    "summary": "Close to 400 participants attended the opening plenary in Bruxelles and online.",
    "links": [],
}


def news_html(version: int) -> str:
    items = ([NEWS_FINAL] if version == 2 else []) + [NEWS_DRAFT, NEWS_KICKOFF]
    lines = ['<section class="news-list">', "<h1>Widget Office news</h1>", "<ul>"]
    for it in items:
        lines.append('<li class="news-item">')
        lines.append(f'<p class="date"><time>{it["date"]}</time></p>')
        lines.append(f'<h2>{it["title"]}</h2>')
        lines.append(f'<p>{it["summary"]}</p>')
        if it["links"]:
            links = " · ".join(f'<a href="{href}">{text}</a>' for href, text in it["links"])
            lines.append(f'<p class="links">{links}</p>')
        lines.append("</li>")
    lines += ["</ul>", "</section>"]
    return page("News | Widget Office", "\n".join(lines))


QA_FIRST_DRAFT = {
    "title": "Questions and answers: first draft of the Code of Practice",
    "date": "14 March 2031",
    "qa": [
        ("What is the Code of Practice for general-purpose widget models?",
         "It is a voluntary instrument, drawn up by independent chairs with providers and other "
         "stakeholders, that helps providers demonstrate compliance with Articles 12 and 13 of the "
         "Widget Act until harmonised standards are available."),
        ("Who drew up the first draft?",
         "Four working groups chaired by independent experts, with the Widget Office acting as "
         "facilitator. Around 400 participants took part in the plenary sessions."),
        ("How can I comment on the first draft?",
         "Participants in the working groups can submit written comments through the consultation "
         "platform until 11 April 2031. Comments will be published in aggregated form."),
        ("When will the final version be published?",
         "The final version is expected in the summer of 2031, after two further drafting rounds."),
    ],
}
QA_FINAL = {
    "title": "Questions and answers: final Code of Practice",
    "date": "2 July 2031",
    "qa": [
        ("What changed since the first draft?",
         "The final version tightens the updating of the model dossier, shortens the deadline for "
         "reporting serious incidents to 10 days, raises the compute threshold for additional "
         "documentation and introduces yearly incident drills."),
        ("How do providers sign the Code?",
         "Providers send a signed declaration of adherence to the Widget Office. The list of "
         "signatories is published on this site and updated monthly."),
        ("Does signing the Code mean a provider complies with the Widget Act?",
         "Adhering to the Code is one way to demonstrate compliance. Providers that do not sign it "
         "must show compliance by other adequate means."),
        ("Will the Code be reviewed?",
         "Yes. The Widget Office will invite signatories to review the Code at least every two years, "
         "in the light of technological developments."),
        ("Are there simplified rules for start-ups?",
         "Small and medium-sized enterprises, including start-ups, may apply simplified ways of "
         "compliance, and the fees they may charge downstream providers are capped at €100 per request."),
    ],
}


def qa_html(qa: dict) -> str:
    lines = ["<article>", f"<h1>{qa['title']}</h1>", f'<p class="date"><time>{qa["date"]}</time></p>']
    for q, a in qa["qa"]:
        lines += [f"<h2>{q}</h2>", f"<p>{a}</p>"]
    lines += ['<p><a href="/news.html">Back to the news</a></p>', "</article>"]
    return page(f"{qa['title']} | Widget Office", "\n".join(lines))


# ---------------------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------------------

ROBOTS = "User-agent: *\nDisallow: /private/\n"


def changes_md() -> str:
    lines = [
        "# Sample publications: changes from v1 (first draft) to v2 (final version)",
        "",
        "Generated by `tracker/demo/make_samples.py`; the documents are fictional. "
        "These are the changes regwatch should detect between `v1/code.*` and `v2/code.*` "
        "(HTML and PDF carry the same text):",
        "",
    ]
    for i, (kind, where, what) in enumerate(CHANGES, 1):
        lines.append(f"{i}. **{kind}** ({where}): {what}")
    lines += ["", "Also different between the versions (expected, not substantive):", ""]
    lines += [f"- {n}" for n in NOISE]
    return "\n".join(lines) + "\n"


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode("utf-8"))


def main() -> None:
    for sub in ("v1", "v2"):
        shutil.rmtree(DATA / sub, ignore_errors=True)
    for version in (1, 2):
        doc = document(version)
        folder = DATA / f"v{version}"
        folder.mkdir(parents=True, exist_ok=True)
        write(folder / "code.html", code_html(doc))
        code_pdf(doc, folder / "code.pdf")
        write(folder / "news.html", news_html(version))
        write(folder / "publications" / "qa-first-draft.html", qa_html(QA_FIRST_DRAFT))
    write(DATA / "v2" / "publications" / "qa-final.html", qa_html(QA_FINAL))
    write(DATA / "robots.txt", ROBOTS)
    write(DATA / "CHANGES.md", changes_md())


if __name__ == "__main__":
    main()
