# Rules engine reasons (key = "reason-" + code with . and _ as -) and line treatments.

reason-answer-prohibited = You answered that you carry prohibited or restricted articles.
reason-answer-over-allowance = You answered that you carry goods over the duty-free allowance.
reason-answer-commercial = You answered that you carry commercial goods or samples.
reason-answer-for-others = You answered that you carry articles for someone else.
reason-answer-means-of-payment = You answered that you carry cash or other means of payment over ¥1,000,000.
reason-answer-precious-metal = You answered that you carry precious metal over 1 kg.
reason-answer-unaccompanied = You have { $packages } unaccompanied package(s) sent separately.
reason-answer-over-allowance-inconsistent = You answered "no" to goods over the allowance, but your items exceed it.
reason-allowance-alcohol-exceeded = Alcohol: { $declared_ml } ml declared, { $allowed_ml } ml duty-free for your party.
reason-allowance-tobacco-exceeded = Tobacco: { $declared_percent }% of one allowance declared, { $allowed_percent }% duty-free for your party.
reason-allowance-perfume-exceeded = Perfume: { $declared_ml } ml declared, { $allowed_ml } ml duty-free for your party.
reason-allowance-other-goods-exceeded = Other goods: ¥{ $counted_yen } counted, ¥{ $allowance_yen } duty-free for your party.
reason-allowance-single-article-over-limit = Item { $item }: a single article worth ¥{ $value_yen } (over ¥{ $limit_yen }) is taxed on its full value.
reason-allowance-age-restricted = Alcohol and tobacco are duty-free only for travellers aged 20 or over.
reason-rules-incomplete-item = Item { $item }: the volume or weight is missing; an officer will assess it.

treatment-within-allowance = Duty-free (within the allowance)
treatment-per-kind-under-threshold = Duty-free (items of this kind total ¥10,000 or less)
treatment-customs-value-over-ceiling = An officer will assess the duty (customs value over ¥100,000)
treatment-no-simplified-rate = An officer will assess the duty (no simplified rate)
treatment-unknown-currency = An officer will assess the duty (currency not in the rate table)
treatment-incomplete-item = An officer will assess the duty (volume or weight missing)
treatment-dutiable = Dutiable
