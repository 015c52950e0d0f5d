"""The console's words in English and Japanese, and which language a request gets:
``?lang=en|ja`` (remembered in a cookie), else that cookie, else Accept-Language."""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web

LANG_COOKIE = "firstline_admin_lang"
LANGUAGES = ("en", "ja")

# key -> (English, Japanese); every label the templates and pages show
LABELS: dict[str, tuple[str, str]] = {
    "console": ("firstline admin", "firstline 管理画面"),
    "overview": ("Overview", "概要"),
    "conversations": ("Conversations", "会話"),
    "documents": ("Documents", "ドキュメント"),
    "costs": ("Costs", "コスト"),
    "logout": ("Log out", "ログアウト"),
    "login": ("Log in", "ログイン"),
    "login_title": ("Admin console login", "管理画面へのログイン"),
    "token": ("Admin token", "管理トークン"),
    "login_failed": ("That token is not right.", "トークンが正しくありません。"),
    "login_sso_only": ("Sign in through the company's single sign-on.",
                       "社内のシングルサインオンからアクセスしてください。"),
    "signed_in_as": ("Signed in as", "ログイン中:"),
    "window": ("Window", "期間"),
    "days": ("days", "日"),
    "last_n_days": ("Last {n} days", "過去 {n} 日"),
    "answers": ("Answers", "回答数"),
    "answers_per_day": ("Answers per day by route", "ルート別の1日あたりの回答数"),
    "deflection": ("Deflection rate", "自己解決率"),
    "deflection_help": ("Answered (local, cloud, cache or approved), not handed off, not 👎, "
                        "of all questions (admin commands not counted).",
                        "質問のうち、回答され(ローカル・クラウド・キャッシュ・承認済み)、"
                        "担当者に引き継がれず、👎 もないものの割合(管理コマンドは除く)。"),
    "escalation": ("Escalation share", "クラウドへのエスカレーション率"),
    "spend": ("Spend", "費用"),
    "all_cloud": ("All-cloud cost", "全件クラウドの場合の費用"),
    "saving": ("Saving", "削減額"),
    "latency": ("Latency p50 / p95", "応答時間 p50 / p95"),
    "thumbs": ("👍 / 👎", "👍 / 👎"),
    "no_answers": ("No answers in this window yet.", "この期間の回答はまだありません。"),
    "time": ("Time (UTC)", "日時 (UTC)"),
    "route": ("Route", "ルート"),
    "reason": ("Reason", "理由"),
    "sources": ("Sources", "出典"),
    "language": ("Language", "言語"),
    "question": ("Question", "質問"),
    "feedback": ("Feedback", "評価"),
    "channel": ("Channel", "チャネル"),
    "all": ("All", "すべて"),
    "no_vote": ("No vote", "評価なし"),
    "filter": ("Filter", "絞り込み"),
    "newer": ("← Newer", "← 新しい"),
    "older": ("Older →", "古い →"),
    "text_not_logged": ("Question text is not logged (FIRSTLINE_LOG_QUESTION_TEXT is off); "
                        "route, reason, sources and language are shown instead.",
                        "質問文は記録されていません(FIRSTLINE_LOG_QUESTION_TEXT がオフ)。"
                        "ルート・理由・出典・言語を表示しています。"),
    "not_logged": ("(not logged)", "(記録なし)"),
    "file": ("File", "ファイル"),
    "chunks": ("Chunks", "チャンク"),
    "audience": ("Audience", "閲覧グループ"),
    "everyone": ("everyone", "全員"),
    "last_indexed": ("Last indexed (UTC)", "最終インデックス (UTC)"),
    "flags": ("Flagged text", "要確認のテキスト"),
    "confidential": ("confidential", "機密"),
    "documents_total": ("{files} files, {chunks} chunks", "{files} ファイル、{chunks} チャンク"),
    "last_run": ("Last index run", "前回のインデックス"),
    "never_indexed": ("No index run recorded yet.", "インデックスの記録はまだありません。"),
    "problems": ("Files to look at", "確認が必要なファイル"),
    "state": ("State", "状態"),
    "why": ("Why", "理由"),
    "reindex": ("Reindex", "再インデックス"),
    "reindex_full": ("Re-embed every file (--full)", "全ファイルを再埋め込み (--full)"),
    "reindex_started": ("Reindex started.", "再インデックスを開始しました。"),
    "reindex_busy": ("A reindex is already running.", "再インデックスは既に実行中です。"),
    "reindex_running": ("Indexing… {done}/{total} files",
                        "インデックス中… {done}/{total} ファイル"),
    "reindex_idle": ("No reindex running.", "実行中の再インデックスはありません。"),
    "day": ("Day", "日付"),
    "models": ("Models", "モデル"),
    "cost_usd": ("Cost (USD)", "費用 (USD)"),
    "all_cloud_usd": ("All-cloud (USD)", "全件クラウド (USD)"),
    "saving_usd": ("Saving (USD)", "削減額 (USD)"),
    "prompt_tokens": ("Prompt tokens", "入力トークン"),
    "completion_tokens": ("Output tokens", "出力トークン"),
    "by_day": ("By day", "日別"),
    "by_route": ("By route", "ルート別"),
    "by_model": ("By model", "モデル別"),
    "csv": ("Download CSV", "CSV をダウンロード"),
    "total": ("Total", "合計"),
    "none": ("(none)", "(なし)"),
    "language_switch": ("日本語", "English"),
    # -- Knowledge gaps and Approved answers (the gaps branch) --
    "gaps": ("Knowledge gaps", "知識のギャップ"),
    "gaps_help": ("Declined, 👎, low-confidence and handed-off questions, grouped by "
                  "similarity per language. Promote a gap to an approved answer to answer it "
                  "next time.",
                  "回答できなかった・👎・確信度の低い・担当者に引き継がれた質問を、言語ごとに"
                  "類似度でまとめています。承認済みの回答にすると、次回からその回答を返します。"),
    "gaps_no_text": ("Question text is not logged (FIRSTLINE_LOG_QUESTION_TEXT is off): gaps "
                     "are grouped by the questions' embeddings and show their key terms.",
                     "質問文は記録されていません(FIRSTLINE_LOG_QUESTION_TEXT がオフ)。"
                     "質問の埋め込みでまとめ、キーワードを表示しています。"),
    "gap_questions": ("{n} questions", "{n} 件の質問"),
    "trend_new": ("new", "新規"),
    "trend_up": ("up from {p}", "前期間 {p} 件から増加"),
    "trend_down": ("down from {p}", "前期間 {p} 件から減少"),
    "trend_same": ("as before", "前期間と同じ"),
    "reasons": ("Reasons", "理由"),
    "why_declined": ("declined", "回答不可"),
    "why_voted-down": ("👎", "👎"),
    "why_low-confidence": ("low confidence", "確信度が低い"),
    "why_handed-off": ("handed off", "担当者へ引き継ぎ"),
    "key_terms": ("Key terms", "キーワード"),
    "examples": ("Example questions", "質問の例"),
    "closest_documents": ("Closest documents", "近い文書"),
    "no_gaps": ("No knowledge gaps in this window.", "この期間に知識のギャップはありません。"),
    "promote": ("Promote to approved answer", "承認済みの回答にする"),
    "answer_text": ("Answer", "回答"),
    "owner": ("Owner", "担当者"),
    "review_on": ("Review by", "見直し期限"),
    "cite": ("Cite", "引用する文書"),
    "other_documents": ("Other cited documents (paths, comma-separated)",
                        "その他の引用文書(パス、カンマ区切り)"),
    "audience_if_none": ("Audience when nothing is cited (groups; empty: everyone)",
                         "文書を引用しない場合の閲覧グループ(空欄: 全員)"),
    "approved": ("Approved answers", "承認済みの回答"),
    "approved_help": ("Given before any model runs to questions like theirs (route approved, "
                      "cost 0). Withdrawn automatically when a cited document changes; past "
                      "the review date still given and marked due.",
                      "同様の質問に、モデルより先に返します(ルート approved、費用 0)。引用文書が"
                      "変わると自動で取り下げます。見直し期限を過ぎても返しますが、期限切れと表示します。"),
    "approved_added": ("Approved answer {id} added.", "承認済みの回答 {id} を追加しました。"),
    "approved_edited": ("Approved answer {id} saved.", "承認済みの回答 {id} を保存しました。"),
    "approved_withdrawn": ("Approved answer {id} withdrawn.",
                           "承認済みの回答 {id} を取り下げました。"),
    "status_active": ("Active", "有効"),
    "status_withdrawn": ("Withdrawn", "取り下げ済み"),
    "status_all": ("All", "すべて"),
    "cited_documents": ("Cited documents", "引用文書"),
    "audience_of_documents": ("that of its documents", "引用文書に従う"),
    "due": ("due for review", "見直し期限切れ"),
    "edit": ("Edit", "編集"),
    "save": ("Save", "保存"),
    "withdraw": ("Withdraw", "取り下げ"),
    "no_approved": ("No approved answers here.", "承認済みの回答はありません。"),
    "add_approved": ("Add an approved answer", "承認済みの回答を追加"),
    "add": ("Add", "追加"),
}


def pick_language(request: web.Request) -> str:
    """``?lang=``, else the cookie, else the first of en/ja in Accept-Language (else en)."""
    for given in (request.query.get("lang", ""), request.cookies.get(LANG_COOKIE, "")):
        if given in LANGUAGES:
            return given
    for part in request.headers.get("Accept-Language", "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return "en"


def translator(language: str) -> Callable[..., str]:
    """``t(key, **values)``: the label in ``language``, formatted with ``values``."""
    index = LANGUAGES.index(language) if language in LANGUAGES else 0

    def t(key: str, **values: object) -> str:
        text = LABELS[key][index]
        return text.format(**values) if values else text
    return t
