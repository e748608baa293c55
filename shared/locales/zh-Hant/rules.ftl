# 判定理由及各物品的處理方式。

reason-answer-prohibited = 您回答攜帶了禁止或限制進口的物品。
reason-answer-over-allowance = 您回答攜帶了超出免稅範圍的物品。
reason-answer-commercial = 您回答攜帶了商業貨物或樣品。
reason-answer-for-others = 您回答攜帶了他人託帶的物品。
reason-answer-means-of-payment = 您回答攜帶了超過100萬日圓等值的現金等支付工具。
reason-answer-precious-metal = 您回答攜帶了超過1公斤的貴金屬。
reason-answer-unaccompanied = 您有{ $packages }件另行託運的物品。
reason-answer-over-allowance-inconsistent = 您對「超出免稅範圍的物品」回答了「否」，但申報的物品已超出免稅範圍。
reason-allowance-alcohol-exceeded = 酒類：申報{ $declared_ml }毫升，您同行人員的免稅額為{ $allowed_ml }毫升。
reason-allowance-tobacco-exceeded = 菸草：申報量為免稅額的{ $declared_percent }%，您同行人員的免稅額為{ $allowed_percent }%。
reason-allowance-perfume-exceeded = 香水：申報{ $declared_ml }毫升，您同行人員的免稅額為{ $allowed_ml }毫升。
reason-allowance-other-goods-exceeded = 其他物品：合計¥{ $counted_yen }，您同行人員的免稅額為¥{ $allowance_yen }。
reason-allowance-single-article-over-limit = 第{ $item }項：單件價值¥{ $value_yen }（超過¥{ $limit_yen }）的物品按全額課稅。
reason-allowance-age-restricted = 酒類和菸草僅對年滿20歲的旅客免稅。
reason-rules-incomplete-item = 第{ $item }項：未填寫容量或重量，將由海關人員核定。

treatment-within-allowance = 免稅（在免稅範圍內）
treatment-per-kind-under-threshold = 免稅（同類物品合計不超過1萬日圓）
treatment-customs-value-over-ceiling = 由海關人員核定稅額（完稅價格超過10萬日圓）
treatment-no-simplified-rate = 由海關人員核定稅額（不適用簡易稅率）
treatment-unknown-currency = 由海關人員核定稅額（該貨幣無換算匯率）
treatment-incomplete-item = 由海關人員核定稅額（未填寫容量或重量）
treatment-dutiable = 應稅
