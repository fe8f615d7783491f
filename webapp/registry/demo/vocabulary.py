"""Word lists the generator draws from: people's names, places, roads, shops and firms."""
from __future__ import annotations

from itertools import accumulate

_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝"
    "龚邵万钱严覃武戴莫孔向汤"
)
# Old Shanghai families: these surnames are far more common among local hukou holders.
_SURNAMES_LOCAL = "沈陆顾朱张徐王李陈周吴金钱蒋杨黄姚俞唐范孙施潘曹许费邵胡何郁瞿奚"
# Zipf-like, so the first surnames of a list are the most common (王 about 5 %, as in China).
_SURNAME_WEIGHTS = {
    names: list(accumulate(1 / (i + 8) for i in range(len(names)))) for names in (_SURNAMES, _SURNAMES_LOCAL)
}
_GIVEN = {
    ("M", "old"): "建国伟强军明华平刚勇林国文荣福根宝德兴海忠志民金祥龙富昌生",
    ("M", "new"): "浩宇轩子泽博睿俊杰晨昊天辰逸然一航鑫凯思彦铭瑞嘉翔毅诚锦宸",
    ("F", "old"): "秀英兰珍凤华芳玉梅琴娟萍红丽美淑桂霞敏燕静云莲",
    ("F", "new"): "欣怡梓涵萱诗雨琪思佳可馨悦彤婷雪妍晴宁语若依瑶",
}
# ISO 3166 numeric nationality, given names, surnames, passport pattern (# digit, @ letter).
_FOREIGN = (
    ("840", ("JOHN", "MICHAEL", "DAVID", "EMILY", "SARAH", "JESSICA"),
     ("SMITH", "JOHNSON", "BROWN", "MILLER", "DAVIS"), "#########"),
    ("826", ("JAMES", "OLIVER", "HARRY", "AMELIA", "OLIVIA"),
     ("WILSON", "TAYLOR", "EVANS", "THOMAS", "ROBERTS"), "#########"),
    ("276", ("THOMAS", "LUKAS", "ANNA", "LENA", "FELIX"),
     ("MUELLER", "SCHMIDT", "SCHNEIDER", "FISCHER", "WEBER"), "C@@#@@#@#"),
    ("250", ("PIERRE", "LOUIS", "CAMILLE", "MANON", "JULIEN"),
     ("MARTIN", "BERNARD", "DUBOIS", "LAURENT", "MOREAU"), "##@@#####"),
    ("392", ("HIROSHI", "KENJI", "YUKI", "SAKURA", "TAKUMI"),
     ("TANAKA", "SUZUKI", "SATO", "TAKAHASHI", "WATANABE"), "T@#######"),
    ("410", ("MINJUN", "SEOYEON", "JIWOO", "HYUNWOO", "SOOJIN"),
     ("KIM", "LEE", "PARK", "CHOI", "JUNG"), "M########"),
    ("702", ("WEI MING", "JIA HUI", "KAI WEN", "SHU TING"),
     ("TAN", "LIM", "NG", "ONG", "GOH"), "K#######@"),
)
_PHONE_PREFIXES = (
    "130 131 132 133 134 135 136 137 138 139 150 151 152 153 155 156 157 158 159 166 173 175"
    " 176 177 178 180 181 182 183 184 185 186 187 188 189 191 198 199"
).split()
# Where 来沪 people come from (GB/T 2260 province prefix, weight): Shanghai's big sources.
_MIGRANT_PROVINCES = (
    ("34", 22), ("32", 14), ("41", 11), ("51", 8), ("36", 7), ("33", 6), ("42", 5), ("37", 5),
    ("43", 4), ("50", 3), ("52", 3), ("62", 2), ("23", 2), ("13", 2), ("45", 1), ("61", 1),
    ("35", 1), ("14", 1), ("22", 1), ("21", 1), ("53", 1),
)
_MIGRANT_PREFIXES = [p for p, _ in _MIGRANT_PROVINCES]
_MIGRANT_CUM = list(accumulate(w for _, w in _MIGRANT_PROVINCES))
# Current Shanghai districts and the county codes their older residents' ID numbers carry.
_SH_OLD_CODES = {
    "310117": "310227", "310106": "310108", "310114": "310222", "310116": "310228",
    "310118": "310229", "310120": "310226", "310151": "310230", "310115": "310225",
}
_SH_ROADS = {
    "310101": ("南京东路", "河南中路", "复兴中路"), "310104": ("漕溪北路", "天钥桥路", "龙华西路"),
    "310105": ("延安西路", "天山路", "仙霞路"), "310106": ("共和新路", "延长中路", "西康路"),
    "310107": ("曹杨路", "真北路", "武宁路"), "310109": ("四平路", "大连路", "曲阳路"),
    "310110": ("控江路", "国权路", "长阳路"), "310112": ("莘松路", "七莘路", "沪闵路"),
    "310113": ("牡丹江路", "友谊路", "淞滨路"), "310114": ("城中路", "博乐路", "清河路"),
    "310115": ("浦东南路", "张杨路", "东方路"), "310116": ("卫零路", "龙胜路", "蒙山路"),
    "310118": ("城中北路", "公园路", "华青路"), "310120": ("南桥路", "解放东路", "环城东路"),
    "310151": ("八一路", "人民路", "东门路"),
}
_COMMITTEE_FIRST = ("方松一村", "方松二村", "蓝天一村", "蓝天二村", "蓝天三村", "荣乐新村", "文诚苑", "松乐苑")
_COMMITTEE_PREFIX = (
    "方松", "蓝天", "荣乐", "文诚", "松乐", "江秋", "新凯", "茸梅", "谷阳", "西林", "嘉松", "广富",
    "泗泾", "九亭", "佘山", "云间", "华亭", "通波", "白粮", "龙源", "玉树", "梅家浜", "乐都", "仓城",
    "永丰", "岳阳", "中山", "车墩", "新桥", "洞泾", "石湖荡", "叶榭", "小昆山",
)
_COMMITTEE_SUFFIX = ("一村", "二村", "三村", "四村", "新村", "花园", "苑", "家园", "名邸", "小区")
_ROADS_NS = ("谷阳北路", "人民北路", "西林北路", "嘉松南路", "茸梅路", "文诚路", "龙源路", "白粮路",
             "玉树路", "梅家浜路", "通波路", "松卫北路")
_ROADS_EW = ("荣乐东路", "中山中路", "松汇中路", "新松江路", "文翔路", "广富林路", "方松路", "江学路",
             "思贤路", "乐都路", "玉阳路", "文汇路")
_ROAD_CHARS = "松茸云泗九佘广富林乐荣文翔梅华德玉树方塔汇庙江学龙源新仓城岳阳永丰洞泾叶榭昆秀"
_SHOP_KINDS = ("面馆", "便利店", "水果店", "理发店", "五金店", "洗衣店", "小吃店", "烟酒店", "药房",
               "早餐店", "修车铺", "花店", "快递驿站", "房产中介")
_INDUSTRIES = ("贸易", "科技", "餐饮管理", "物业管理", "信息技术", "建筑装饰", "电子商务", "文化传播",
               "物流", "服装", "机械设备", "家政服务", "教育科技", "健康管理", "广告")
_BRAND_CHARS = "华鑫顺达恒泰宏盛嘉汇博睿锦程新源瑞丰天佳益诚通茂永兴"
_ROOM_NAMES = ("主卧", "次卧", "北卧", "南卧", "书房")
_SAMPLE_LOGINS = ("centre", "police", "jw01", "wg01", "xg01", "xg02", "jw02")
