# 判定理由及各物品的处理方式。

reason-answer-prohibited = 您回答携带了禁止或限制进口的物品。
reason-answer-over-allowance = 您回答携带了超出免税范围的物品。
reason-answer-commercial = 您回答携带了商业货物或样品。
reason-answer-for-others = 您回答携带了他人托带的物品。
reason-answer-means-of-payment = 您回答携带了超过100万日元等值的现金等支付手段。
reason-answer-precious-metal = 您回答携带了超过1公斤的贵金属。
reason-answer-unaccompanied = 您有{ $packages }件另行托运的物品。
reason-answer-over-allowance-inconsistent = 您对“超出免税范围的物品”回答了“否”，但申报的物品已超出免税范围。
reason-allowance-alcohol-exceeded = 酒类：申报{ $declared_ml }毫升，您同行人员的免税额为{ $allowed_ml }毫升。
reason-allowance-tobacco-exceeded = 烟草：申报量为免税额的{ $declared_percent }%，您同行人员的免税额为{ $allowed_percent }%。
reason-allowance-perfume-exceeded = 香水：申报{ $declared_ml }毫升，您同行人员的免税额为{ $allowed_ml }毫升。
reason-allowance-other-goods-exceeded = 其他物品：合计¥{ $counted_yen }，您同行人员的免税额为¥{ $allowance_yen }。
reason-allowance-single-article-over-limit = 第{ $item }项：单件价值¥{ $value_yen }（超过¥{ $limit_yen }）的物品按全额征税。
reason-allowance-age-restricted = 酒类和烟草仅对年满20岁的旅客免税。
reason-rules-incomplete-item = 第{ $item }项：未填写容量或重量，将由海关人员核定。

treatment-within-allowance = 免税（在免税范围内）
treatment-per-kind-under-threshold = 免税（同类物品合计不超过1万日元）
treatment-customs-value-over-ceiling = 由海关人员核定税额（完税价格超过10万日元）
treatment-no-simplified-rate = 由海关人员核定税额（不适用简易税率）
treatment-unknown-currency = 由海关人员核定税额（该货币无换算汇率）
treatment-incomplete-item = 由海关人员核定税额（未填写容量或重量）
treatment-dutiable = 应税
