# 通用术语：物品类别与通道名称。

lane-green = 绿色通道
lane-red = 红色通道

category-whisky = 威士忌
category-brandy = 白兰地
category-rum = 朗姆酒
category-gin = 金酒
category-vodka = 伏特加
category-liqueur = 利口酒
category-other-spirits = 其他蒸馏酒
category-wine = 葡萄酒
category-beer = 啤酒
category-other-liquor = 其他酒类
category-cigarettes = 卷烟
category-cigars = 雪茄
category-heated-tobacco-sticks = 加热烟草（烟弹棒）
category-heated-tobacco-capsules = 加热烟草（胶囊）
category-other-tobacco = 其他烟草
category-perfume = 香水
category-eau-de-toilette = 淡香水／古龙水
category-clothing = 服装
category-bags-accessories = 箱包及配饰
category-watches-jewellery = 手表及珠宝
category-cosmetics = 化妆品
category-electronics = 电子产品
category-food = 食品
category-toys-games = 玩具及游戏
category-other-goods = 其他物品
