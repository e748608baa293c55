# 判定理由と品目ごとの取扱い。

reason-answer-prohibited = 輸入が禁止・制限されている物を持っていると回答しました。
reason-answer-over-allowance = 免税範囲を超える物を持っていると回答しました。
reason-answer-commercial = 商業貨物・商品サンプルを持っていると回答しました。
reason-answer-for-others = 他人から預かった物を持っていると回答しました。
reason-answer-means-of-payment = 100万円相当額を超える現金等の支払手段を持っていると回答しました。
reason-answer-precious-metal = 1kgを超える貴金属を持っていると回答しました。
reason-answer-unaccompanied = 別送品が{ $packages }個あります。
reason-answer-over-allowance-inconsistent = 免税範囲を超える物について「いいえ」と回答しましたが、申告された品物は免税範囲を超えています。
reason-allowance-alcohol-exceeded = 酒類：申告{ $declared_ml }ml、同伴者を含む免税範囲は{ $allowed_ml }mlです。
reason-allowance-tobacco-exceeded = たばこ：免税数量の{ $declared_percent }%を申告、同伴者を含む免税範囲は{ $allowed_percent }%です。
reason-allowance-perfume-exceeded = 香水：申告{ $declared_ml }ml、同伴者を含む免税範囲は{ $allowed_ml }mlです。
reason-allowance-other-goods-exceeded = その他の品物：合計¥{ $counted_yen }、同伴者を含む免税範囲は¥{ $allowance_yen }です。
reason-allowance-single-article-over-limit = 品目{ $item }：1個¥{ $value_yen }（¥{ $limit_yen }超）の品物は全額が課税対象です。
reason-allowance-age-restricted = 酒類・たばこの免税は20歳以上の方に限られます。
reason-rules-incomplete-item = 品目{ $item }：容量または重量が未記入のため、税関職員が確認します。

treatment-within-allowance = 免税（免税範囲内）
treatment-per-kind-under-threshold = 免税（同じ品目の合計が1万円以下）
treatment-customs-value-over-ceiling = 税関職員が税額を算定します（課税価格10万円超）
treatment-no-simplified-rate = 税関職員が税額を算定します（簡易税率の対象外）
treatment-unknown-currency = 税関職員が税額を算定します（換算レートのない通貨）
treatment-incomplete-item = 税関職員が税額を算定します（容量または重量が未記入）
treatment-dutiable = 課税
