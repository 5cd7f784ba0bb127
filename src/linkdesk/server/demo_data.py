"""Word pools and generators for the demo desk: names, ID numbers, numbers, case texts.

Nothing here is real: names are drawn from common surnames and given names, ID numbers
and mobile numbers are generated with valid structure (check digit, number plan).
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from linkdesk.domain.cases import CaseCategory
from linkdesk.domain.phones import InvalidPhoneNumber, national_digits, normalise

SURNAMES = (
    "王 李 张 刘 陈 杨 黄 赵 吴 周 徐 孙 马 朱 胡 郭 何 高 林 罗 郑 梁 谢 宋 唐 许 韩 冯 邓 曹 "
    "彭 曾 肖 田 董 袁 潘 于 蒋 蔡 余 杜 叶 程 苏 魏 吕 丁 任 沈 姚 卢 姜 崔 钟 谭 陆 汪 范 金"
).split()
COMPOUND_SURNAMES = "欧阳 司马 上官 诸葛 东方 慕容 令狐 皇甫".split()
GIVEN = (
    "伟 芳 娜 敏 静 丽 强 磊 军 洋 勇 艳 杰 娟 涛 明 超 秀英 霞 平 刚 桂英 建华 晓东 雪梅 "
    "子涵 浩然 欣怡 梓轩 雨桐 一鸣 思远 佳琪 宇航 婉清 文博 嘉怡 志强 海燕 春梅 俊杰 瑞 鹏 "
    "丹 晨 琳 博 颖 昊 婷 凯 倩 斌 宁 岚 鑫 璐"
).split()

# (6-digit administrative code, place) — real codes so ID numbers look right.
AREA_CODES = (
    "110101 110105 310104 310115 440305 440106 330106 320102 510107 420106 "
    "610113 500103 370102 350203 430104 410105 210102 120101 340104 530102"
).split()
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"

MOBILE_PREFIXES = (
    "130 131 132 133 134 135 136 137 138 139 150 151 152 153 155 156 157 158 159 "
    "166 173 175 176 177 180 181 182 183 185 186 187 188 189 198 199"
).split()

AGENTS = [
    ("wangfang", "王芳 Wang Fang", "agent"),
    ("liqiang", "李强 Li Qiang", "agent"),
    ("zhangmin", "张敏 Zhang Min", "agent"),
    ("chenjing", "陈静 Chen Jing", "agent"),
    ("liuyang", "刘洋 Liu Yang", "risk_analyst"),
    ("zhaolei", "赵磊 Zhao Lei", "risk_analyst"),
    ("huangli", "黄丽 Huang Li", "compliance"),
    ("ouyangna", "欧阳娜 Ouyang Na", "compliance"),
    ("sunhao", "孙浩 Sun Hao", "supervisor"),
    ("zhouting", "周婷 Zhou Ting", "agent"),
]

SUBJECTS: dict[CaseCategory, list[str]] = {
    CaseCategory.REBIND: [
        "借款人换号后无法联系", "借款人申请更换绑定手机号", "手机丢失，申请换绑新号码",
        "换号申请：原号码已停机", "客户来电要求变更预留手机号", "换绑核验未通过，待补充材料",
        "Borrower changed number, rebind requested", "Lost SIM: rebind to new number",
    ],
    CaseCategory.RECYCLED_NUMBER: [
        "陌生人反映收到催收电话（二次号）", "二次号：新机主收到还款提醒短信", "号码已被运营商回收再分配",
        "新用户投诉：频繁收到他人借款通知", "疑似二次号，需确认号码重新分配", "二次号误触达，需停止联系",
        "Stranger receives collection calls (recycled number)", "Recycled number: SMS reminders reach new owner",
    ],
    CaseCategory.IMPERSONATION: [
        "冒用他人手机号注册借款", "身份证与手机号三要素不一致", "疑似冒名借款，本人否认申请",
        "他人盗用身份信息开户", "冒用手机号申请提额", "本人报案：未申请却收到放款短信",
        "Impersonation: loan taken with someone else's number", "Three-element mismatch at sign-up",
    ],
    CaseCategory.UNREACHABLE: [
        "催收无法联系借款人：号码空号", "借款人手机长期关机", "号码已停机，需寻找其他联系渠道",
        "失联借款人，预留号码无人接听", "号码状态异常，无法触达", "逾期客户失联，核实号码状态",
        "Borrower unreachable: number out of service", "Collection cannot reach borrower",
    ],
    CaseCategory.PRIVACY_REQUEST: [
        "个人信息查阅请求", "申请删除个人信息", "要求更正预留信息", "申请复制个人信息副本",
        "撤回授权并要求停止处理", "查询个人信息处理情况",
        "Data subject access request", "Request to delete personal data",
    ],
    CaseCategory.PRIVACY_INCIDENT: [
        "疑似客户信息泄露", "外呼名单异常导出", "员工违规查询客户信息", "第三方合作方数据外泄风险",
        "短信内容包含完整身份证号", "客服录音外传事件",
        "Suspected leak of customer data", "Unusual export of contact lists",
    ],
    CaseCategory.RISK_ALERT: [
        "监测：号码入网时长过短", "监测：绑定号码已被重新分配", "多名借款人共用同一手机号",
        "三要素核验不一致预警", "号码状态变更：已销号", "风险预警：号码近期频繁换绑",
        "Alert: number reassigned since binding", "Alert: several borrowers share one number",
    ],
    CaseCategory.EXPOSURE: [
        "关联企业借款逾期，风险可能传导", "项目融资违约，复核关联借款人", "小微企业主多头借贷风险",
        "担保链风险暴露", "关联号码集群复核", "经营贷逾期，排查关联账户",
        "Exposure: SME default linked to retail borrowers", "Review linked cluster after project default",
    ],
}

BODY_SENTENCES: dict[CaseCategory, list[str]] = {
    CaseCategory.REBIND: [
        "客户来电称原手机号已注销，希望尽快完成换绑。",
        "借款人在App内提交了更换号码申请，附身份证照片。",
        "已通过人脸识别和银行卡验证两项独立要素。",
        "旧号码已无法接收验证码，需人工核验后换号。",
        "Customer called to report the number change; verification pending.",
    ],
    CaseCategory.RECYCLED_NUMBER: [
        "来电人表示并不认识借款人，要求停止拨打。",
        "运营商查询结果显示号码于上月重新分配。",
        "已将该号码加入禁止联系名单，待复核。",
        "新机主称办卡后一直收到催收短信，属二次号。",
        "The new owner of the number asked us to stop calling.",
        "Carrier lookup confirms the number was reassigned.",
    ],
    CaseCategory.IMPERSONATION: [
        "三要素核验返回不一致，需人工复核。",
        "已冻结账户，等待本人到店核实身份。",
        "本人否认申请过该笔借款，已报警并提供回执。",
        "注册所用手机号登记在他人名下。",
    ],
    CaseCategory.UNREACHABLE: [
        "催收记录显示连续七天无人接听。",
        "号码状态查询结果为停机，需寻找借款人本人其他已核实渠道。",
        "已发送短信提醒，尚未收到回复。",
        "按规定不得联系借款人以外的第三方。",
    ],
    CaseCategory.PRIVACY_REQUEST: [
        "根据个人信息保护法，需在十五个工作日内答复。",
        "申请人已通过身份核验，要求提供个人信息副本。",
        "申请人要求删除已结清借款的个人信息。",
        "Refund of the overcharged fee was requested as well.",
    ],
    CaseCategory.PRIVACY_INCIDENT: [
        "发现外呼系统导出记录异常，已暂停相关账号。",
        "需评估涉及的个人信息范围并准备报告。",
        "Escalated to compliance for review.",
        "已保全相关日志，等待安全团队调查。",
    ],
    CaseCategory.RISK_ALERT: [
        "号码入网时间不足三个月，风险评分上调。",
        "监测到同一号码绑定多名借款人。",
        "号码在绑定后被运营商重新分配，需停止联系。",
        "请风控团队评估是否需要重新授信。",
    ],
    CaseCategory.EXPOSURE: [
        "关联借款人共有四位，其中两位已逾期。",
        "企业主个人经营贷逾期，关联担保人需复核。",
        "项目融资出现违约，排查共用号码的借款人。",
        "请风控团队评估是否需要重新授信。",
    ],
}
"""Description sentences per category: a description takes one to three of them."""

GENERAL_SENTENCES = [
    "请勿向第三方透露任何借款信息。",
    "客户情绪激动，建议优先处理。",
]

COMMENTS = [
    "已联系客户，等待回复。", "已补充核验材料。", "已回复来电人，未透露借款信息。",
    "Called back, no answer.", "客户确认新号码可用。", "已提交运营商查询。",
    "Verification passed, moving on.", "等待合规意见。",
]
NOTES = [
    "内部备注：注意核实是否为本人。", "内部：与风控确认后再处理。", "Internal: possible fraud ring.",
    "内部备注：此号码曾关联另一借款人。", "内部：已上报主管。",
]


def person_name(rng: random.Random) -> str:
    surname = rng.choice(COMPOUND_SURNAMES) if rng.random() < 0.04 else rng.choice(SURNAMES)
    given = rng.choice(GIVEN)
    if len(given) == 1 and rng.random() < 0.4:
        given += rng.choice([g for g in GIVEN if len(g) == 1])
    return surname + given


def id_check_digit(first17: str) -> str:
    return ID_CHECK[sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS, strict=True)) % 11]


def id_number(rng: random.Random) -> str:
    born = date(1965, 1, 1) + timedelta(days=rng.randrange(0, 38 * 365))
    first17 = f"{rng.choice(AREA_CODES)}{born:%Y%m%d}{rng.randrange(0, 1000):03d}"
    return first17 + id_check_digit(first17)


def mobile_number(rng: random.Random, taken: set[str]) -> str:
    """A valid mainland mobile number in E.164, not in ``taken`` (which it joins)."""
    while True:
        raw = rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(0, 10**8):08d}"
        try:
            e164 = normalise(raw)
        except InvalidPhoneNumber:
            continue
        if e164 not in taken:
            taken.add(e164)
            return e164


def lookalike_number(rng: random.Random, e164: str, taken: set[str]) -> str:
    """Another valid mobile number masked as ``e164`` is (the same first three and last
    four digits, ``138****1234``), not in ``taken`` (which it joins)."""
    digits = national_digits(e164)
    if len(digits) != 11:
        return mobile_number(rng, taken)
    while True:
        try:
            other = normalise(digits[:3] + f"{rng.randrange(0, 10**4):04d}" + digits[-4:])
        except InvalidPhoneNumber:
            continue
        if other not in taken:
            taken.add(other)
            return other


def case_text(rng: random.Random, category: CaseCategory) -> tuple[str, str]:
    subject = rng.choice(SUBJECTS[category])
    own = BODY_SENTENCES[category]
    sentences = rng.sample(own, rng.randint(1, min(2, len(own))))
    if rng.random() < 0.3:
        sentences.append(rng.choice(GENERAL_SENTENCES))
    body = "".join(sentences)
    return subject, body
