"""The severity policy of the built-in rules: what each level means, and why every high rule is high.

Severity says what a failing result means for a merge, not which lens tier its best practice has. The
default gate (``--fail-on high``) fails a review on high findings only, so ``high`` is kept for what a
reviewer would block a merge for. ``tests/test_severity_policy.py`` holds the catalogue to this file, and
``walens.ruledocs`` prints it in ``docs/rules.md`` / ``docs/rules.ja.md``.
"""

from __future__ import annotations

from typing import Final

# What each level means, in the order the docs show them.
LEVELS: Final[dict[str, dict[str, str]]] = {
    "high": {
        "en": "An exploitable security exposure, or a likely data loss or outage: what a reviewer would block a "
              "merge for. The default gate (`--fail-on high`) fails on these only; each one is listed below "
              "with its reason.",
        "ja": "悪用できるセキュリティ上の露出、またはデータ損失や障害につながる可能性が高いもの。レビュー担当者が"
              "マージを止める問題です。既定のゲート (`--fail-on high`) はこれだけで失敗します。各ルールの理由は下の表にあります。",
    },
    "medium": {
        "en": "A missing safeguard with a real but indirect effect: alarms, tracing and logs, throttling, "
              "delivery dead-letter queues, retries in orchestration, log retention and log volume, code "
              "signing, least-privilege hygiene. Also configurations AWS itself refuses at deployment (a "
              "blocked runtime, a log level without the JSON format), which fail loudly without walens.",
        "ja": "実際の影響はあるが間接的な安全策の欠如: アラーム、トレースとログ、スロットリング、配信用のデッドレターキュー、"
              "オーケストレーションでの再試行、ログの保持期間と量、コード署名、最小権限の衛生管理。デプロイ時に AWS 自体が"
              "拒否する構成 (ブロックされたランタイム、JSON 形式でないログレベル) もここに入ります。walens がなくても"
              "デプロイが失敗して気付けるためです。",
    },
    "low": {
        "en": "Tuning and hygiene where the default is often acceptable: memory left at 128 MB, retention "
              "longer than two years, request validation, image scanning.",
        "ja": "既定値でも多くの場合は許容できる調整や衛生管理: 128 MB のままのメモリ、2 年を超える保持期間、"
              "リクエストの検証、イメージのスキャン。",
    },
    "info": {
        "en": "Heuristics: a pattern worth a look, not a proven problem.",
        "ja": "ヒューリスティック: 確認する価値のあるパターンで、問題が証明されたわけではありません。",
    },
}

# Every high rule, with the one-line reason it is high. A rule is high if and only if it is listed here.
HIGH: Final[dict[str, dict[str, str]]] = {
    "SEC001": {"en": "A VPC guardrail with a gap lets functions run outside the required VPC while it looks enforced.",
               "ja": "穴のある VPC ガードレールは、強制されているように見えながら必須の VPC の外で関数を実行させます。"},
    "SEC002": {"en": "Anyone on the internet can invoke the backend: methods without an authorizer and no AWS WAF.",
               "ja": "オーソライザーのないメソッドがあり AWS WAF もないため、インターネット上の誰でもバックエンドを呼び出せます。"},
    "SEC003": {"en": "Any VPC endpoint, in any account, can reach the private API.",
               "ja": "どのアカウントのどの VPC エンドポイントからでもプライベート API に到達できます。"},
    "SEC004": {"en": "A public HTTPS endpoint without authentication runs (and bills) the function for anyone.",
               "ja": "認証のない公開 HTTPS エンドポイントで、誰でも関数を実行 (課金) できます。"},
    "SEC008": {"en": "Where VPC-connected functions are required, a function outside the VPC escapes the required "
                     "network controls.",
               "ja": "VPC 接続が必須の環境で VPC 外の関数は、必須のネットワーク制御を逃れます。"},
    "SEC009": {"en": "A secret written in the template is readable in source control and by anyone who can read the "
                     "function's configuration.",
               "ja": "テンプレートに書かれたシークレットは、ソース管理と関数の設定を読めるすべての人に読まれます。"},
    "SEC010": {"en": "The secret is shown in plain text in the console, describe-stacks and stack events.",
               "ja": "シークレットがコンソール、describe-stacks、スタックイベントに平文で表示されます。"},
    "SEC011": {"en": "Long-term AWS access keys leak with the function's configuration and never expire.",
               "ja": "長期の AWS アクセスキーが関数の設定とともに漏れ、失効しません。"},
    "SEC013": {"en": "Wildcard, NotAction or *FullAccess/AdministratorAccess grants hand code running in the "
                     "function everything they allow.",
               "ja": "ワイルドカード、NotAction、*FullAccess/AdministratorAccess の許可は、関数内で動くコードに"
                     "そのすべてを与えます。"},
    "SEC014": {"en": "Anyone, or any resource of a service in any account (confused deputy), can invoke the function.",
               "ja": "誰でも、またはどのアカウントのサービスのリソースでも (混乱した代理) 関数を呼び出せます。"},
    "SEC015": {"en": "Every AWS account can download the layer's code.",
               "ja": "すべての AWS アカウントがレイヤーのコードをダウンロードできます。"},
    "SEC023": {"en": "Any AWS account, or anyone, can use the queue, topic, bucket or event bus.",
               "ja": "どの AWS アカウントでも、または誰でも、キュー、トピック、バケット、イベントバスを使えます。"},
    "SEC028": {"en": "A key or secret in the stack's Outputs is readable in plain text by anyone who can describe "
                     "the stack or import its exports.",
               "ja": "スタックの出力にあるキーやシークレットは、スタックを参照またはエクスポートをインポートできる"
                     "すべての人に平文で読まれます。"},
    "REL003": {"en": "Events that still fail after Lambda's retries are discarded without a trace: data loss.",
               "ja": "Lambda の再試行後も失敗したイベントは跡形もなく破棄されます: データ損失です。"},
    "REL010": {"en": "Stream records skipped after the retries are lost without a trace.",
               "ja": "再試行の後にスキップされたストリームのレコードは跡形もなく失われます。"},
    "REL012": {"en": "One failing batch blocks its shard until the records expire (24 hours to 365 days): "
                     "processing stops, then the records are lost.",
               "ja": "失敗する 1 つのバッチが、レコードの期限切れ (24 時間から 365 日) までシャードを止めます: "
                     "処理が停止し、その後レコードが失われます。"},
    "REL013": {"en": "A message that always fails is retried until the retention period deletes it: lost, after "
                     "delaying the rest of the queue.",
               "ja": "常に失敗するメッセージは保持期間で削除されるまで再試行され、キューの残りを遅らせた末に失われます。"},
}

# Pillars whose rules are medium or lower by policy: tuning, cost and observability. One of their rules may be
# high only when it is listed here (and in HIGH) with why it is more than tuning. None is, today.
TUNING_PILLARS: Final[frozenset[str]] = frozenset({"costOptimization", "performance", "operationalExcellence"})
HIGH_OUTSIDE_POLICY_PILLARS: Final[frozenset[str]] = frozenset()
