"""The words a demo lead is made of: titles, companies, answers, channels, pages and e-mail domains.

Each table carries the generator's own meaning of a value (a title's seniority, a size band) so that
:mod:`leadscore.generate.process` can compute the true conversion probability from the raw table,
exactly as written, without a hidden column.
"""

from __future__ import annotations

# title, seniority, function, relative weight
JOB_TITLES: tuple[tuple[str, str, str, float], ...] = (
    ("CEO", "c_level", "executive", 2.0),
    ("Founder & CEO", "c_level", "executive", 1.5),
    ("Chief Marketing Officer", "c_level", "marketing", 1.0),
    ("CTO", "c_level", "engineering", 1.0),
    ("COO", "c_level", "operations", 0.5),
    ("VP Marketing", "vp", "marketing", 2.0),
    ("Vice President of Sales", "vp", "sales", 1.5),
    ("VP Engineering", "vp", "engineering", 1.0),
    ("SVP Operations", "vp", "operations", 0.5),
    ("Director of Marketing", "director", "marketing", 3.0),
    ("Sales Director", "director", "sales", 2.0),
    ("Head of Growth", "director", "marketing", 2.0),
    ("IT Director", "director", "it", 1.5),
    ("Finance Director", "director", "finance", 1.0),
    ("Marketing Manager", "manager", "marketing", 6.0),
    ("Sales Manager", "manager", "sales", 4.0),
    ("Product Manager", "manager", "product", 4.0),
    ("Operations Manager", "manager", "operations", 3.0),
    ("Engineering Manager", "manager", "engineering", 2.0),
    ("Marketing Specialist", "individual", "marketing", 6.0),
    ("Account Executive", "individual", "sales", 4.0),
    ("Software Engineer", "individual", "engineering", 5.0),
    ("Data Analyst", "individual", "data", 4.0),
    ("Sales Representative", "individual", "sales", 3.0),
    ("Consultant", "individual", "other", 3.0),
    ("Accountant", "individual", "finance", 2.0),
    ("Student", "intern_student", "other", 3.0),
    ("Marketing Intern", "intern_student", "marketing", 1.5),
    ("Graduate Student", "intern_student", "other", 1.0),
)

# size band, how it is written on the form (a range, or a head count inside it), weight
COMPANY_SIZES: tuple[tuple[str, tuple[str, ...], float], ...] = (
    ("1-10", ("1-10", "5", "8"), 14.0),
    ("11-50", ("11-50", "25", "40"), 20.0),
    ("51-200", ("51-200", "120"), 22.0),
    ("201-1000", ("201-1000", "450"), 18.0),
    ("1001-5000", ("1001-5000", "2500"), 12.0),
    ("5000+", ("5000+", "10000"), 8.0),
)
INDUSTRIES: tuple[tuple[str, float], ...] = (
    ("Software", 18.0), ("Financial Services", 10.0), ("E-commerce", 9.0),
    ("Healthcare", 8.0), ("Education", 8.0), ("Manufacturing", 9.0), ("Media", 6.0),
    ("Consulting", 9.0), ("Government", 4.0), ("Non-profit", 4.0), ("Retail", 7.0),
)  # fmt: skip
BUDGETS: tuple[str, ...] = ("<10k", "10k-50k", "50k-250k", "250k+")
AUTHORITIES: tuple[str, ...] = ("Decision maker", "Influencer", "End user", "Not involved")
NEEDS: tuple[str, ...] = ("High", "Medium", "Low")
TIMELINES: tuple[str, ...] = ("This quarter", "Next quarter", "This year", "No plans")
SOURCES: tuple[str, ...] = (
    "organic_search", "paid_search", "social", "email", "referral", "direct", "event", "partner",
)  # fmt: skip
SITE = "https://www.leadscore-demo.com"
LANDING_PAGES: tuple[str, ...] = (
    "/", "/pricing", "/demo", "/product/analytics", "/product/integrations",
    "/blog/lead-scoring-101", "/blog/b2b-funnel-benchmarks", "/resources/buyers-guide",
    "/webinar/predictive-scoring", "/customers",
)  # fmt: skip
PAGES: tuple[str, ...] = (
    "/", "/product/analytics", "/product/integrations", "/customers", "/blog/lead-scoring-101",
    "/blog/b2b-funnel-benchmarks", "/docs/getting-started", "/about", "/careers",
)  # fmt: skip
FREE_MAIL: tuple[str, ...] = (
    "gmail.com", "yahoo.com", "hotmail.com", "outlook.com", "icloud.com", "gmx.de", "web.de",
    "yahoo.co.uk", "aol.com", "proton.me",
)  # fmt: skip
FIRST_NAMES: tuple[str, ...] = (
    "Anna", "Ben", "Carla", "David", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Kavya",
    "Liam", "Maria", "Noah", "Olivia", "Priya", "Quentin", "Rosa", "Sven", "Tara", "Umar",
    "Vera", "Wei", "Yara", "Zoe",
)  # fmt: skip
LAST_NAMES: tuple[str, ...] = (
    "Smith", "Garcia", "Müller", "Martin", "Rossi", "Tanaka", "Patel", "Silva", "Johnson",
    "Dubois", "Kowalski", "Nguyen", "Andersson", "Brown", "Schmidt", "Khan", "Lopez", "Chen",
)  # fmt: skip
COMPANY_WORDS: tuple[tuple[str, ...], tuple[str, ...]] = (
    ("Acme", "Blue", "North", "Bright", "Nova", "Summit", "Vertex", "Cedar", "Quantum", "Atlas",
     "Silver", "Harbor", "Pixel", "Iron", "Green", "Lumen", "Orbit", "Delta", "Maple", "Apex"),
    ("Labs", "Systems", "Works", "Analytics", "Health", "Logistics", "Media", "Capital", "Soft",
     "Retail", "Partners", "Group", "Cloud", "Dynamics", "Foods", "Energy"),
)  # fmt: skip
