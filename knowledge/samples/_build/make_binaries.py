#!/usr/bin/env python3
"""Build the DOCX and PDF documents of the sample knowledge base.

The text of every binary document lives in this file (the ``DOCS`` list
below). Run it from anywhere::

    /work/main/.venv/bin/python knowledge/samples/_build/make_binaries.py

It needs ``python-docx`` and ``fpdf2`` (``pip install python-docx fpdf2``).
Output files are written next to the other sample documents, i.e. into
``knowledge/samples/<category>/``. The output is reproducible: timestamps
inside the files are fixed, so re-running the script on unchanged sources
gives byte-identical files (for the same library versions).

PDFs use the PDF core font (Helvetica, Latin-1 only), so PDF documents are
English only; Japanese documents are produced as DOCX.
"""

from __future__ import annotations

import io
import sys
import zipfile
from datetime import UTC, datetime
from pathlib import Path

SAMPLES = Path(__file__).resolve().parent.parent
FIXED_TIME = datetime(2025, 4, 1, 9, 0, 0, tzinfo=UTC)

# A document is a dict with: path, format ("docx" | "pdf"), lang, title,
# meta (author/subject) and blocks. Blocks are tuples:
#   ("h1", text) ("h2", text) ("h3", text) ("p", text)
#   ("bullets", [text, ...]) ("numbered", [text, ...])
#   ("table", [[header cells], [row cells], ...])
#   ("note", text)   - a boxed/italic remark

DOCS: list[dict] = [
    # ------------------------------------------------------------------ IT
    {
        "path": "it/laptop-request-replacement.docx",
        "format": "docx",
        "lang": "en",
        "title": "Laptop requests, replacement and repairs",
        "author": "IT Service Desk",
        "blocks": [
            ("h1", "Laptop requests, replacement and repairs"),
            (
                "p",
                "Owner: IT Service Desk. Applies to all employees in Tokyo and Boston. "
                "Last reviewed: 3 February 2025.",
            ),
            (
                "p",
                "Every employee gets one company laptop. This guide explains which models "
                "are available, when laptops are replaced, and what to do when yours is "
                "broken, lost or stolen.",
            ),
            ("h2", "Standard models"),
            (
                "table",
                [
                    ["Role", "Standard laptop", "Alternative"],
                    [
                        "Engineering, data, design",
                        "MacBook Pro 14-inch (M3 Pro, 36 GB RAM)",
                        "Lenovo ThinkPad P14s (Linux or Windows)",
                    ],
                    [
                        "All other roles",
                        "MacBook Air 13-inch (16 GB RAM)",
                        "Lenovo ThinkPad T14 (Windows 11)",
                    ],
                ],
            ),
            (
                "p",
                "New hires receive the standard model for their role on day 1 at the IT bar "
                "(Tokyo 8F, Boston Suite 900). A different model needs a business reason and "
                "your manager's approval.",
            ),
            ("h2", "Replacement cycle"),
            (
                "p",
                "Laptops are replaced every 4 years. IT contacts you automatically 30 days "
                "before your laptop reaches 4 years and books a 30-minute swap appointment. "
                "You do not need to submit a request for a routine replacement.",
            ),
            (
                "p",
                "An earlier replacement is possible if the laptop no longer meets your role's "
                "needs (for example, an engineer moving to machine-learning work). Submit a "
                "Hardware Request explaining why.",
            ),
            ("h2", "How to request a new or additional laptop"),
            (
                "numbered",
                [
                    "Open the IT help portal at https://help.northwind.example and choose "
                    "Request something > Hardware.",
                    "Select the model and describe the business reason.",
                    "Your manager approves the request in the portal.",
                    "IT prepares the laptop. Delivery takes 5 business days when the model is in "
                    "stock, or up to 3 weeks when it must be ordered.",
                    "Pick it up at the IT bar, or ask for shipping if you work remotely.",
                ],
            ),
            ("h2", "Broken or damaged laptop"),
            (
                "bullets",
                [
                    "Bring the laptop to the IT bar, or call the IT Service Desk on ext. 4357 if "
                    "you work remotely.",
                    "You get a loaner laptop the same day, so you can keep working while yours is "
                    "repaired.",
                    "Accidental damage (drops, spills) is covered by the company; just tell us "
                    "what happened. Repeated damage is reported to your manager.",
                    "Never try to open the laptop or take it to an outside repair shop.",
                ],
            ),
            ("h2", "Lost or stolen laptop"),
            (
                "p",
                "Call the IT Service Desk on ext. 4357 immediately (24 hours a day for lost "
                "devices). IT locks the laptop remotely and revokes its certificates. If it "
                "was stolen, file a police report within 24 hours and upload the report number "
                "to the ticket. The replacement laptop is ready within 2 business days.",
            ),
            ("h2", "Returning your old laptop"),
            (
                "p",
                "Return the old laptop to the IT bar within 10 business days of receiving the "
                "new one. IT wipes it securely. Copy your files to OneDrive first; local files "
                "cannot be recovered after the wipe. Company laptops cannot be bought by "
                "employees.",
            ),
            ("h2", "Monitors and accessories"),
            (
                "p",
                "Each employee may order accessories (monitor, keyboard, mouse, headset, dock) "
                "worth up to $300 or ¥45,000 every 4 years through the same Hardware Request "
                "form. Remote workers can have them shipped home.",
            ),
        ],
    },
    # ------------------------------------------------------------------ HR
    {
        "path": "hr/parental-leave.docx",
        "format": "docx",
        "lang": "en",
        "title": "Parental Leave Policy (US)",
        "author": "People Team",
        "blocks": [
            ("h1", "Parental Leave Policy (US)"),
            (
                "p",
                "Owner: People Team. Applies to employees of Northwind Lab, Inc. in the United "
                "States. Effective 1 January 2025. "
                "Employees in Japan: see 育児休業の取得について.",
            ),
            ("h2", "Who is eligible"),
            (
                "p",
                "All regular US employees, full-time or part-time, who have completed 90 days of "
                "employment when their leave starts. The policy applies equally to birth, "
                "adoption and foster placement, and to parents of any gender.",
            ),
            ("h2", "How much leave"),
            (
                "table",
                [
                    ["Parent", "Paid leave", "Pay"],
                    ["Birth parent", "16 weeks", "100% of base salary"],
                    [
                        "Non-birth parent (including adoptive and foster parents)",
                        "12 weeks",
                        "100% of base salary",
                    ],
                ],
            ),
            (
                "bullets",
                [
                    "Leave must be taken within 12 months of the birth or placement.",
                    "You can take it in one block or in up to two blocks of at least 2 weeks each.",
                    "Part-time employees receive the same number of weeks, paid at their normal "
                    "part-time salary.",
                    "Leave does not reduce your PTO, which keeps accruing during parental leave.",
                ],
            ),
            ("h2", "Coordination with Massachusetts PFML"),
            (
                "p",
                "Employees in Massachusetts must also apply for Paid Family and Medical Leave "
                "(PFML) benefits. Northwind Lab tops up the state benefit so that you receive "
                "100% of your base salary for the whole company leave period. The People Team "
                "helps you file the PFML application.",
            ),
            ("h2", "How to request parental leave"),
            (
                "numbered",
                [
                    "Tell your manager and the People Team as early as you are comfortable, and at "
                    "least 30 days before the expected start of leave.",
                    "Submit the request in PeopleHub under Time off > Leave of absence > Parental "
                    "leave, with the expected start and end dates.",
                    "Meet the leave specialist (30 minutes) to go through pay, benefits and PFML.",
                    "After the birth or placement, confirm the date in PeopleHub within 2 weeks.",
                ],
            ),
            (
                "p",
                "If the baby arrives early, start the leave immediately and update PeopleHub "
                "when you can.",
            ),
            ("h2", "Benefits and job protection"),
            (
                "bullets",
                [
                    "Your medical, dental and vision coverage continues on the same terms.",
                    "Add your child to your benefits within 30 days of the birth or placement "
                    "(a qualifying life event).",
                    "You return to the same or an equivalent role with the same pay.",
                    "Parental leave does not affect your performance rating; the review covers "
                    "the time you worked.",
                ],
            ),
            ("h2", "Returning to work"),
            (
                "p",
                "For the first 2 weeks after returning you may work 80% of your normal hours at "
                "full pay (phased return). Nursing rooms are available in both offices; book "
                "them through the Facilities portal.",
            ),
            ("h2", "Contact"),
            ("p", "People Team leave specialist: ext. 4720, hr@northwind.example, #help-hr."),
        ],
    },
    {
        "path": "hr/remote-work-rules-ja.docx",
        "format": "docx",
        "lang": "ja",
        "title": "リモートワーク規程",
        "author": "人事部",
        "blocks": [
            ("h1", "リモートワーク規程"),
            (
                "p",
                "制定:2021年4月1日 改定:2025年4月1日 所管:人事部 "
                "対象:ノースウィンド・ラボ株式会社の社員(日本)",
            ),
            ("h2", "第1条(目的)"),
            (
                "p",
                "この規程は、社員が自宅等で業務を行うリモートワーク(在宅勤務)について、"
                "対象者、勤務日数、手続き、費用負担および情報セキュリティの基準を定める。",
            ),
            ("h2", "第2条(対象者)"),
            (
                "p",
                "すべての正社員および契約社員を対象とする。ただし、入社後 1 か月間は、"
                "業務の立ち上げとチームとの関係づくりのため、原則として出社するものとする。",
            ),
            ("h2", "第3条(勤務日数)"),
            (
                "bullets",
                [
                    "リモートワークは 週 3 日まで とする。",
                    "各チームは、上長が定める「チーム出社日」(週 2 日)に出社する。",
                    "業務上の必要がある場合、上長はリモートワーク予定日であっても出社を求めることができる。",
                    "育児・介護・健康上の理由がある場合は、人事部の承認により"
                    "週 4 日以上のリモートワークを認める。",
                ],
            ),
            ("h2", "第4条(申請と記録)"),
            (
                "numbered",
                [
                    "リモートワークを行う日は、前日までに PeopleHub の「勤務予定」に登録する。",
                    "当日の始業・終業は、出社日と同じく PeopleHub で打刻する。",
                    "始業時に Slack のステータスを「在宅勤務」に設定する。",
                ],
            ),
            ("h2", "第5条(勤務場所)"),
            (
                "p",
                "勤務場所は、自宅または事前に届け出た場所(実家など)とし、日本国内に限る。"
                "国外からのリモートワークは認めない。カフェ・コワーキングスペース等の公共の"
                "場所での勤務は、1 日 2 時間程度までとし、のぞき見防止フィルターを使用し、"
                "機密情報を含む通話を行ってはならない。",
            ),
            ("h2", "第6条(勤務時間)"),
            (
                "p",
                "リモートワーク中もフレックスタイム制を適用し、コアタイム(11:00〜15:00)は"
                "連絡がとれる状態で勤務する。中抜けや深夜勤務の手続きは、"
                "「勤務時間とフレックスタイム制度」に従う。",
            ),
            ("h2", "第7条(情報セキュリティ)"),
            (
                "bullets",
                [
                    "社内システムには、必ず VPN(Northwind Connect)を経由して接続する。"
                    "公共 Wi-Fi の利用時は VPN の使用を必須とする。",
                    "会社のノートPCを家族等と共用してはならない。離席時は画面をロックする。",
                    "自宅での紙の印刷は禁止する。",
                    "ノートPC・社員証の紛失時は、ただちに IT サービスデスク(内線 4357)に連絡する。",
                ],
            ),
            ("h2", "第8条(費用)"),
            (
                "table",
                [
                    ["項目", "内容"],
                    [
                        "在宅勤務手当",
                        "月額 5,000 円(通信費・光熱費の補助として毎月 25 日の給与で支給)",
                    ],
                    [
                        "在宅用の備品",
                        "モニター・キーボード等を 4 年ごとに 45,000 円まで会社が貸与"
                        "(IT の Hardware Request から申請)",
                    ],
                    ["通勤手当", "出社が月 10 日以下の場合は実費支給(「交通費精算のルール」参照)"],
                ],
            ),
            ("p", "在宅勤務手当は、その月にリモートワークを 1 日以上行った場合に支給する。"),
            ("h2", "第9条(健康管理と労災)"),
            (
                "p",
                "社員は、適切な作業環境(照明・椅子・机)を整え、1 時間に 1 回程度の休憩をとる。"
                "リモートワーク中の業務に起因するけがは、労働者災害補償保険の対象となる。"
                "けがをした場合は、速やかに上長と人事部に報告する。",
            ),
            ("h2", "附則"),
            (
                "p",
                "この規程は 2025 年 4 月 1 日から施行する。問い合わせ先:人事部(内線 4700、"
                "hr@northwind.example)。",
            ),
        ],
    },
    # ------------------------------------------------------------ Expenses
    {
        "path": "expenses/corporate-card.docx",
        "format": "docx",
        "lang": "en",
        "title": "Corporate card guidelines",
        "author": "Finance",
        "blocks": [
            ("h1", "Corporate card guidelines"),
            (
                "p",
                "Owner: Finance. Applies to cardholders in Japan and the United States. "
                "Last reviewed: 1 April 2025.",
            ),
            (
                "p",
                "The Northwind Lab corporate card is a Visa card issued by Harbor Commercial "
                "Bank. It lets you pay for business expenses without using your own money. "
                "The company pays the card bill directly; you never pay the card statement "
                "yourself.",
            ),
            ("h2", "Who can get a card"),
            (
                "bullets",
                [
                    "Employees who travel for business 4 or more times a year.",
                    "People managers (for team meals and events).",
                    "Roles that regularly buy from vendors, such as office management and events.",
                ],
            ),
            (
                "p",
                "To apply, open NW Expense (https://expense.northwind.example) and choose "
                "Corporate card > Request a card. Your manager approves the request, and the "
                "card is mailed to the office within 10 business days. You must complete the "
                "15-minute cardholder training before the card is activated.",
            ),
            ("h2", "Limits"),
            (
                "table",
                [
                    ["", "Japan", "United States"],
                    ["Monthly limit", "¥500,000", "$5,000"],
                    ["Single transaction", "¥300,000", "$2,500"],
                    ["Cash withdrawals", "Blocked", "Blocked"],
                ],
            ),
            (
                "p",
                "For a one-off larger purchase (for example, a conference booth), ask Finance at "
                "cards@northwind.example for a temporary limit increase at least 3 business "
                "days in advance.",
            ),
            ("h2", "What you may and may not buy"),
            (
                "bullets",
                [
                    "Allowed: business travel not booked in NW Travel, client and team meals "
                    "within the expense policy limits, conference fees, small office supplies.",
                    "Not allowed: any personal purchase, even if you plan to pay it back.",
                    "Not allowed: software subscriptions and licenses - these go through a "
                    "Software Request so that IT Procurement buys them.",
                    "Not allowed: gift cards, cash advances and money transfers.",
                ],
            ),
            ("h2", "Reconciling card transactions"),
            (
                "numbered",
                [
                    "Card transactions appear in NW Expense within 2 business days.",
                    "For each transaction, add the business purpose and attendees, and attach the "
                    "receipt (required over ¥3,000 or $25, as for all expenses).",
                    "Submit the month's transactions by the normal expense deadline: 5:00 p.m. on "
                    "the 5th business day of the following month.",
                    "Your manager approves them in the usual approval flow.",
                ],
            ),
            (
                "p",
                "Transactions that are still not reconciled 60 days after the transaction date "
                "lead to the card being suspended until they are cleared. A personal charge "
                "made by mistake must be reported to Finance within 5 business days and is "
                "deducted from your next salary.",
            ),
            ("h2", "Lost or stolen card"),
            (
                "numbered",
                [
                    "Call the bank's 24-hour number on the back of the card immediately: "
                    "United States +1 800-555-0123, Japan 0120-555-012.",
                    "Email cards@northwind.example with the last 4 digits of the card.",
                    "A replacement card arrives within 5 business days.",
                ],
            ),
            ("h2", "When you leave or change role"),
            (
                "p",
                "Reconcile all open transactions before your last day. Finance cancels the card "
                "on your last working day; cut it in half and return it to your manager.",
            ),
        ],
    },
    # ---------------------------------------------------------------- PDFs
    {
        "path": "it/password-policy.pdf",
        "format": "pdf",
        "lang": "en",
        "title": "Password and Account Security Policy",
        "author": "Information Security",
        "blocks": [
            ("h1", "Password and Account Security Policy"),
            (
                "p",
                "Policy ID: IT-SEC-003, version 3.1. Effective 1 October 2024. "
                "Owner: Information Security. Applies to all employees, contractors and "
                "systems of Northwind Lab.",
            ),
            ("h2", "1. Password requirements"),
            (
                "table",
                [
                    ["Rule", "Requirement"],
                    ["Minimum length", "14 characters"],
                    ["Maximum length", "128 characters; spaces are allowed"],
                    ["Complexity", "No required mix of symbols or digits; passphrases encouraged"],
                    ["Rotation (expiry)", "None - passwords do not expire"],
                    ["Password history", "Cannot reuse any of your last 10 passwords"],
                    ["Breached passwords", "Rejected if found in the breached-password list"],
                    ["Account lockout", "After 5 failed attempts, locked for 30 minutes"],
                ],
            ),
            (
                "p",
                "We follow current NIST guidance: long passphrases are stronger and easier to "
                "remember than short complex passwords, and forced periodic changes lead to "
                "weak, predictable passwords. For example, four or five unrelated words such as "
                '"copper lantern maple orbit" make a good passphrase.',
            ),
            ("h2", "2. When you must change your password"),
            ("p", "Because passwords do not expire, you change your password only when:"),
            (
                "bullets",
                [
                    "you suspect that someone else knows it, or you entered it on a phishing page;",
                    "the Security team or the IT Service Desk asks you to; or",
                    "you used it on any other website or service.",
                ],
            ),
            (
                "p",
                "Change it yourself at https://id.northwind.example/reset. Any email that says "
                "your password is about to expire is phishing.",
            ),
            ("h2", "3. Multi-factor authentication (MFA)"),
            (
                "p",
                "MFA is mandatory for every Northwind account, including email, VPN, Slack and "
                "PeopleHub. Use Microsoft Authenticator with number matching, or a hardware "
                "security key (YubiKey). SMS codes are not permitted. Never approve an MFA "
                "request you did not start; report it on ext. 4357.",
            ),
            ("h2", "4. Password manager"),
            (
                "p",
                "Every employee receives a 1Password Business account. Store all work passwords "
                "in it, and use the generator to create unique passwords for external services. "
                "Do not store work passwords in browsers, notes, spreadsheets or chat.",
            ),
            ("h2", "5. Sharing and handling"),
            (
                "bullets",
                [
                    "Never share your password with anyone, including IT staff and your manager.",
                    "IT will never ask for your password by email, chat or phone.",
                    "Shared team credentials must be stored in a 1Password shared vault, never "
                    "sent in Slack or Teams.",
                ],
            ),
            ("h2", "6. Privileged and service accounts"),
            (
                "bullets",
                [
                    "Administrators use a separate admin account with at least 20 characters and a "
                    "hardware security key.",
                    "Service accounts use randomly generated passwords of at least 24 characters, "
                    "stored in the secrets vault and rotated once a year or when a person with "
                    "access leaves.",
                ],
            ),
            ("h2", "7. Devices"),
            (
                "p",
                "Laptops lock automatically after 5 minutes of inactivity. Phones with company "
                "data need a PIN of at least 6 digits or biometric unlock.",
            ),
            ("h2", "8. Exceptions and violations"),
            (
                "p",
                "Exceptions require written approval from the Head of Information Security. "
                "Violations may lead to disciplinary action. Questions: IT Service Desk, "
                "ext. 4357, or #help-it.",
            ),
        ],
    },
    {
        "path": "hr/payroll-and-benefits.pdf",
        "format": "pdf",
        "lang": "en",
        "title": "Pay and Benefits Guide",
        "author": "People Team - Payroll and Benefits",
        "blocks": [
            ("h1", "Pay and Benefits Guide"),
            (
                "p",
                "Owner: People Team (Payroll and Benefits). Applies to all employees; "
                "sections marked US or Japan apply to that country only. Edition: April 2025.",
            ),
            ("h2", "1. Pay day"),
            (
                "p",
                "All employees, in Japan and in the United States, are paid monthly on the 25th "
                "of each month. If the 25th falls on a weekend or a public holiday, salary is "
                "paid on the preceding business day (for example, when the 25th is a Sunday, "
                "you are paid on Friday the 23rd).",
            ),
            (
                "bullets",
                [
                    "Your payslip is published in PeopleHub (https://people.northwind.example) "
                    "2 business days before pay day.",
                    "Approved expense claims submitted by the monthly deadline are paid with the "
                    "salary on the same 25th.",
                    "Overtime, late-night and holiday premiums (Japan) are paid with the following "
                    "month's salary.",
                    "The annual bonus is paid with the June salary.",
                ],
            ),
            ("h2", "2. Your first salary"),
            (
                "p",
                "If you join on or before the 10th of the month, your first salary is paid on "
                "the 25th of that month. If you join after the 10th, your pay for the first "
                "month is paid together with the next month's salary. Enter your bank account "
                "in PeopleHub by the end of your second day.",
            ),
            ("h2", "3. Changing your bank account or address"),
            (
                "p",
                "Update your details in PeopleHub by the 10th of the month to have them applied "
                "to that month's salary. Changes made after the 10th apply from the next month.",
            ),
            ("h2", "4. Tax documents"),
            (
                "bullets",
                [
                    "US: Form W-2 is available in PeopleHub by January 31. Update your W-4 any "
                    "time in PeopleHub.",
                    "Japan: the withholding slip (gensen choshu-hyo) is published in PeopleHub in "
                    "mid-January after the year-end adjustment (nenmatsu chosei) in November.",
                ],
            ),
            ("h2", "5. Benefits enrollment (US)"),
            (
                "p",
                "New US employees must enroll in benefits in PeopleHub within 30 days of their "
                "start date. Coverage starts on your first day of employment, and is backdated "
                "once you enroll. If you do not enroll within 30 days you receive employee-only "
                "medical coverage on the PPO plan and cannot change it until open enrollment.",
            ),
            (
                "bullets",
                [
                    "Open enrollment runs every year from November 1 to November 15. Changes take "
                    "effect on January 1.",
                    "Outside open enrollment, you can change plans only within 30 days of a "
                    "qualifying life event (marriage, birth or adoption, loss of other coverage).",
                ],
            ),
            ("h2", "6. US benefit plans"),
            (
                "table",
                [
                    ["Benefit", "What Northwind Lab provides"],
                    [
                        "Medical",
                        "Harbor Health PPO or HMO; company pays 90% of employee premium, "
                        "75% for dependants",
                    ],
                    ["Dental and vision", "Company pays 100% of employee premium"],
                    [
                        "401(k)",
                        "Company matches 100% of contributions up to 4% of salary; "
                        "vests immediately",
                    ],
                    [
                        "Life and disability",
                        "Life insurance of 2x base salary; short- and "
                        "long-term disability at no cost",
                    ],
                    ["Commuter benefit", "Pre-tax MBTA pass or parking"],
                    ["Wellness", "$50 per month for gym or fitness apps"],
                ],
            ),
            ("h2", "7. Japan benefits"),
            (
                "p",
                "Employees in Japan are enrolled automatically in health insurance, employees' "
                "pension insurance, employment insurance and workers' accident insurance from "
                "their first day; no enrollment action is needed. The company also contributes "
                "20,000 yen per month to a defined-contribution (DC) pension plan. Choose your "
                "DC investment funds within 60 days of joining.",
            ),
            ("h2", "8. Contacts"),
            (
                "p",
                "Payroll: payroll@northwind.example, ext. 4730. Benefits: "
                "benefits@northwind.example, ext. 4740. Slack: #help-hr.",
            ),
        ],
    },
    {
        "path": "expenses/per-diem-and-mileage.pdf",
        "format": "pdf",
        "lang": "en",
        "title": "Per Diem and Mileage Rates",
        "author": "Finance",
        "blocks": [
            ("h1", "Per Diem and Mileage Rates"),
            (
                "p",
                "Owner: Finance. Applies to employees of Northwind Lab, Inc. (United States). "
                "Employees in Japan receive a daily allowance (nitto) under the business "
                "travel regulations (Business Travel Regulations, Japan) instead. "
                "Rates valid from 1 January 2025.",
            ),
            ("h2", "1. Per diem for meals and incidentals"),
            (
                "p",
                "When you travel on business with an overnight stay, or to a destination at "
                "least 50 miles from your office, you receive a fixed daily amount for meals "
                "and incidental expenses (M&IE) instead of claiming actual meal costs. You do "
                "not need meal receipts.",
            ),
            (
                "table",
                [
                    ["Destination", "Full day", "First and last travel day (75%)"],
                    ["United States and Canada", "$75", "$56.25"],
                    ["Japan", "$100", "$75.00"],
                    ["Europe and the United Kingdom", "$110", "$82.50"],
                    ["All other countries", "$90", "$67.50"],
                ],
            ),
            ("h3", "Meals provided"),
            (
                "p",
                "If a meal is provided free of charge (for example, by a conference, a client or "
                "on the flight for a full meal service), deduct it from the per diem: "
                "breakfast $15, lunch $20, dinner $35. Hotel breakfasts included in the room "
                "rate count as provided.",
            ),
            ("h3", "How to claim"),
            (
                "p",
                'In NW Expense, add an expense of type "Per diem", enter the destination and '
                "travel dates, and tick the meals that were provided. NW Expense calculates the "
                "amount. Submit it with the rest of the trip's costs by the monthly deadline "
                "(5:00 p.m. on the 5th business day of the following month).",
            ),
            ("h2", "2. Mileage for using your own car"),
            (
                "p",
                "If you use your personal car for business, Northwind Lab reimburses you at the "
                "IRS standard mileage rate: $0.70 per mile for 2025. The rate covers fuel, "
                "insurance and wear; you cannot claim fuel separately.",
            ),
            (
                "bullets",
                [
                    "Deduct your normal commute: if you drive from home to a client instead of to "
                    "the office, claim only the miles above your usual round trip.",
                    "Tolls and parking are reimbursed in addition, with receipts.",
                    "For trips longer than 150 miles round trip, rent a car through NW Travel "
                    "instead; it is usually cheaper.",
                    "You must hold a valid license and the insurance required by your state. The "
                    "company does not pay for damage to personal vehicles or traffic fines.",
                ],
            ),
            ("h3", "How to claim mileage"),
            (
                "p",
                'Add an expense of type "Mileage" in NW Expense with the date, start and end '
                "addresses, business purpose and miles. NW Expense calculates the distance "
                "with its built-in map; attach a screenshot if you entered the miles by hand.",
            ),
            ("h2", "3. Japan"),
            (
                "p",
                "Business use of private cars in Japan is not allowed without prior approval "
                "from the department head. When approved, the rate is 25 yen per kilometre. "
                "See the Japanese travel regulations for the daily allowance.",
            ),
            ("h2", "Contact"),
            ("p", "Finance, ext. 3300, expenses@northwind.example, or #help-expenses."),
        ],
    },
    # ------------------------------------------------------------ Facilities
    {
        "path": "facilities/mail-and-packages.pdf",
        "format": "pdf",
        "lang": "en",
        "title": "Mail, Packages and Shipping",
        "author": "Facilities",
        "blocks": [
            ("h1", "Mail, Packages and Shipping"),
            (
                "p",
                "Owner: Facilities. Applies to the Tokyo and Boston offices. "
                "Last reviewed: February 2025.",
            ),
            ("h2", "1. Delivery addresses"),
            (
                "p",
                "Tokyo: [Your name], Northwind Lab, Northwind Building 7F, 3-12-8 Shiba, "
                "Minato-ku, Tokyo 105-0014.",
            ),
            (
                "p",
                "Boston: [Your name], Northwind Lab, Inc., 200 Harbor Loop, Suite 900, Boston, "
                "MA 02210.",
            ),
            ("p", "Always include your full name and team so the mailroom can find you."),
            ("h2", "2. Incoming mail and packages"),
            (
                "table",
                [
                    ["", "Tokyo", "Boston"],
                    ["Where", "Mailroom, 7F (next to the lockers)", "Front desk, Suite 900"],
                    [
                        "Letters",
                        "Sorted into team mail slots by 11:00",
                        "Sorted into team mail slots by 12:00",
                    ],
                    [
                        "Packages",
                        "Slack message from @mailbot when it arrives",
                        "Email notification when it arrives",
                    ],
                    ["Pick-up hours", "12:00-13:00 and 16:00-17:00", "9:00-17:30"],
                    [
                        "Held for",
                        "10 business days, then returned to sender",
                        "10 business days, then returned to sender",
                    ],
                ],
            ),
            ("h2", "3. Personal packages"),
            (
                "bullets",
                [
                    "Tokyo: personal deliveries are not accepted (building rule). Use a delivery "
                    "locker or convenience-store pickup instead.",
                    "Boston: small personal packages (under 10 kg / 22 lb) are accepted. Pick them "
                    "up within 5 business days.",
                    "The company is not responsible for loss or damage to personal deliveries.",
                ],
            ),
            ("h2", "4. Sending mail and packages"),
            (
                "bullets",
                [
                    "Tokyo: leave outgoing letters in the outgoing tray in the 7F mailroom by "
                    "15:00 for same-day posting (Japan Post). Domestic parcels go by Yamato "
                    "Transport; fill in the slip at the mailroom.",
                    "Boston: outgoing mail is collected by USPS at 15:30 from the front desk.",
                    "International courier (FedEx) in both offices: submit a Shipping Request in "
                    "the Facilities portal (https://facilities.northwind.example) with your cost "
                    "center. Facilities prints the label and books the pickup.",
                    "Laptops and other IT equipment are shipped only by IT: contact the IT Service "
                    "Desk on ext. 4357.",
                ],
            ),
            ("h2", "5. Confidential documents"),
            (
                "p",
                'Send contracts and personnel documents in the red "Confidential" envelopes '
                "available in the mailroom, sealed and addressed to a named person. For "
                "originals that must be tracked, use registered mail (Tokyo) or certified mail "
                "(Boston) and record the tracking number.",
            ),
            ("h2", "6. Internal mail between offices"),
            (
                "p",
                "A consolidated courier bag goes from Tokyo to Boston every Wednesday and from "
                "Boston to Tokyo every Thursday. Drop items at the mailroom by 12:00 on those "
                "days.",
            ),
            ("h2", "Contact"),
            (
                "p",
                "Facilities desk ext. 2200, facilities@northwind.example, #facilities-tokyo, "
                "#facilities-boston.",
            ),
        ],
    },
]


# --------------------------------------------------------------------- DOCX


def _set_east_asian_font(style, font_name: str) -> None:
    from docx.oxml.ns import qn

    rpr = style.element.get_or_add_rPr()
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.append(rfonts)
    rfonts.set(qn("w:eastAsia"), font_name)


def build_docx(doc_spec: dict) -> bytes:
    import docx
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    document = docx.Document()
    props = document.core_properties
    props.title = doc_spec["title"]
    props.author = doc_spec["author"]
    props.last_modified_by = doc_spec["author"]
    props.company = "Northwind Lab" if doc_spec["lang"] == "en" else "ノースウィンド・ラボ株式会社"
    props.language = "ja-JP" if doc_spec["lang"] == "ja" else "en-US"
    props.created = FIXED_TIME.replace(tzinfo=None)
    props.modified = FIXED_TIME.replace(tzinfo=None)
    props.revision = 1

    normal = document.styles["Normal"]
    normal.font.size = Pt(10.5)
    if doc_spec["lang"] == "ja":
        for name in ("Normal", "Heading 1", "Heading 2", "Heading 3", "Title"):
            _set_east_asian_font(document.styles[name], "Yu Gothic")

    # Header / footer boilerplate like a real controlled document.
    section = document.sections[0]
    header = section.header.paragraphs[0]
    header.text = (
        "Northwind Lab - Internal"
        if doc_spec["lang"] == "en"
        else "ノースウィンド・ラボ株式会社 社内限り"
    )
    header.alignment = WD_ALIGN_PARAGRAPH.RIGHT

    for kind, payload in doc_spec["blocks"]:
        if kind in ("h1", "h2", "h3"):
            document.add_heading(payload, level=int(kind[1]))
        elif kind == "p":
            document.add_paragraph(payload)
        elif kind == "note":
            para = document.add_paragraph()
            para.add_run(payload).italic = True
        elif kind == "bullets":
            for item in payload:
                document.add_paragraph(item, style="List Bullet")
        elif kind == "numbered":
            for item in payload:
                document.add_paragraph(item, style="List Number")
        elif kind == "table":
            head, *rows = payload
            table = document.add_table(rows=1, cols=len(head))
            table.style = "Table Grid"
            for cell, text in zip(table.rows[0].cells, head, strict=True):
                cell.text = text
                for run in cell.paragraphs[0].runs:
                    run.bold = True
            for row in rows:
                cells = table.add_row().cells
                for cell, text in zip(cells, row, strict=True):
                    cell.text = text
            document.add_paragraph()
        else:
            raise ValueError(f"unknown block kind {kind!r}")

    buf = io.BytesIO()
    document.save(buf)
    return _normalize_zip(buf.getvalue())


def _normalize_zip(data: bytes) -> bytes:
    """Rewrite a zip with fixed timestamps so builds are reproducible."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            new = zipfile.ZipInfo(info.filename, date_time=(2025, 4, 1, 9, 0, 0))
            new.compress_type = zipfile.ZIP_DEFLATED
            new.external_attr = 0o644 << 16
            dst.writestr(new, src.read(info.filename))
    return out.getvalue()


# ---------------------------------------------------------------------- PDF


def build_pdf(doc_spec: dict) -> bytes:
    from fpdf import FPDF
    from fpdf.enums import XPos, YPos

    if doc_spec["lang"] != "en":
        raise ValueError("PDFs use a Latin-1 core font; write Japanese documents as DOCX")

    title = doc_spec["title"]

    class Doc(FPDF):
        def header(self) -> None:
            self.set_font("helvetica", "I", 8)
            self.set_text_color(110, 110, 110)
            self.cell(
                0, 6, f"Northwind Lab - {title}", align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT
            )
            self.ln(2)
            self.set_text_color(0, 0, 0)

        def footer(self) -> None:
            self.set_y(-14)
            self.set_font("helvetica", "I", 8)
            self.set_text_color(110, 110, 110)
            self.cell(0, 8, f"Internal use only  |  Page {self.page_no()} of {{nb}}", align="C")
            self.set_text_color(0, 0, 0)

    pdf = Doc(format="A4")
    pdf.set_creation_date(FIXED_TIME)
    pdf.set_title(title)
    pdf.set_author(doc_spec["author"])
    pdf.set_subject("Northwind Lab internal guide")
    pdf.set_creator("knowledge/samples/_build/make_binaries.py")
    pdf.set_lang("en-US")
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.set_margins(20, 15, 20)
    pdf.add_page()

    def para(text: str, size: float = 10.5, style: str = "", gap: float = 2.0) -> None:
        pdf.set_font("helvetica", style, size)
        pdf.multi_cell(0, size * 0.5, text, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(gap)

    for kind, payload in doc_spec["blocks"]:
        if kind == "h1":
            para(payload, size=18, style="B", gap=3)
        elif kind == "h2":
            if pdf.get_y() > pdf.h - 60:  # keep a heading together with its content
                pdf.add_page()
            pdf.ln(2)
            para(payload, size=13, style="B", gap=1.5)
        elif kind == "h3":
            para(payload, size=11, style="B", gap=1)
        elif kind == "p":
            para(payload)
        elif kind == "note":
            para(payload, style="I")
        elif kind in ("bullets", "numbered"):
            pdf.set_font("helvetica", "", 10.5)
            for n, item in enumerate(payload, start=1):
                marker = "-" if kind == "bullets" else f"{n}."
                pdf.set_x(pdf.l_margin + 3)
                pdf.cell(6, 5.25, marker)
                pdf.multi_cell(0, 5.25, item, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
                pdf.ln(0.8)
            pdf.ln(1.5)
        elif kind == "table":
            pdf.set_font("helvetica", "", 9.5)
            with pdf.table(line_height=5, padding=1.5, headings_style=_heading_style()) as table:
                for row in payload:
                    cells = table.row()
                    for text in row:
                        cells.cell(text)
            pdf.ln(3)
        else:
            raise ValueError(f"unknown block kind {kind!r}")

    return bytes(pdf.output())


def _heading_style():
    from fpdf.fonts import FontFace

    return FontFace(emphasis="BOLD", fill_color=(225, 230, 240))


# --------------------------------------------------------------------- main


def main(argv: list[str]) -> int:
    only = set(argv)
    for spec in DOCS:
        if only and spec["path"] not in only:
            continue
        target = SAMPLES / spec["path"]
        target.parent.mkdir(parents=True, exist_ok=True)
        data = build_docx(spec) if spec["format"] == "docx" else build_pdf(spec)
        target.write_bytes(data)
        print(f"wrote {target.relative_to(SAMPLES)} ({len(data):,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
