"""The one vocabulary of the platform: every coded value with its Chinese label.

    from app.vocabulary import Disease, RiskLevel
    Disease.T2DM == "t2dm"; Disease.T2DM.label == "2型糖尿病"; Disease("dm") is Disease.T2DM   (old alias)
    RiskLevel("MEDIUM") is RiskLevel.MODERATE; RiskLevel.HIGH.rank > RiskLevel.LOW.rank

Codes are what the database, the API, the models (BPMN/DMN/forms) and the UI exchange; labels are what people read.
Terms are `str` enums, so a member compares equal to its code and is stored as it. `Term.parse(code)` accepts old
aliases (`dm`, `MEDIUM`, …) and raises `ValueError` for anything else; `Term.label_of(code)` never raises (an unknown
code is shown as it is). `catalog()` is what `GET /api/v1/vocabulary` answers; the UI reads labels from there.
"""
from __future__ import annotations

from enum import StrEnum
from typing import Any, Self

from app.core import clock

from . import loinc

_ALIASES: dict[str, dict[str, str]] = {}


class Term(StrEnum):
    """A coded value with its Chinese label (and, for some vocabularies, a few more attributes)."""

    label: str

    def __new__(cls, code: str, label: str | None = None) -> Self:
        # `label` has a default only so that a lookup by value (`Disease("htn")`, which never reaches this method once
        # the class is built) type-checks; every member must still declare one
        if label is None:
            raise TypeError(f"{cls.__name__} term {code!r} has no label")
        obj = str.__new__(cls, code)
        obj._value_ = code
        obj.label = label
        return obj

    @classmethod
    def _missing_(cls, value: object) -> Any:
        target = _ALIASES.get(cls.__name__, {}).get(str(value))
        return cls(target) if target is not None else None

    @classmethod
    def parse(cls, code: str | None) -> Self | None:
        """The term of a code (or an old alias); None for None/empty; ValueError for an unknown code."""
        if code is None or code == "":
            return None
        return cls(code)

    @classmethod
    def label_of(cls, code: str | None, default: str | None = None) -> str:
        """The label of a code; `default` (else the code itself, else "—") when unknown or empty."""
        try:
            term = cls.parse(code)
        except ValueError:
            term = None
        if term is not None:
            return term.label
        return default if default is not None else (code or "—")

    @classmethod
    def codes(cls) -> tuple[str, ...]:
        return tuple(m.value for m in cls)

    @classmethod
    def accepted(cls) -> tuple[str, ...]:
        """The codes and their old aliases (for input validation that must still accept old clients)."""
        return cls.codes() + tuple(_ALIASES.get(cls.__name__, {}))


def _alias(term: type[Term], **aliases: str) -> None:
    _ALIASES[term.__name__] = aliases


# -- clinical ------------------------------------------------------------------------------------------------------

class Disease(Term):
    """The chronic diseases the platform screens and manages, with the ICD-10 codes that mean "has it"."""

    HTN = "htn", "高血压"
    T2DM = "t2dm", "2型糖尿病"
    COPD = "copd", "慢性阻塞性肺疾病"
    CHD = "chd", "冠心病"
    STROKE = "stroke", "脑卒中 (含高危)"
    CKD = "ckd", "慢性肾脏病"
    COLORECTAL_CANCER = "colorectal_cancer", "结直肠癌筛查"
    UPPER_GI_CANCER = "upper_gi_cancer", "上消化道癌筛查"

    @property
    def icd10(self) -> str:
        """The default ICD-10 code recorded at enrolment."""
        return _DISEASE_ICD10[self][0]

    @property
    def prefixes(self) -> tuple[str, ...]:
        """ICD-10 codes (prefix match) that mean the resident has this disease."""
        return _DISEASE_ICD10[self][1]

    @classmethod
    def of_icd10(cls, icd10: str) -> Disease | None:
        code = icd10.upper()
        return next((d for d in cls if code.startswith(d.prefixes)), None)


_DISEASE_ICD10: dict[Disease, tuple[str, tuple[str, ...]]] = {
    Disease.HTN: ("I10", ("I10", "I11", "I12", "I13", "I15")),
    Disease.T2DM: ("E11", ("E11",)),
    Disease.COPD: ("J44", ("J44", "J43")),
    Disease.CHD: ("I25", ("I20", "I21", "I22", "I23", "I24", "I25")),
    Disease.STROKE: ("I63", ("I60", "I61", "I62", "I63", "I64", "I69", "G45")),
    Disease.CKD: ("N18", ("N18",)),
    Disease.COLORECTAL_CANCER: ("Z12.1", ("C18", "C19", "C20")),
    Disease.UPPER_GI_CANCER: ("Z12.0", ("C15", "C16")),
}
# `dm` was the care-plan and follow-up code for type 2 diabetes until migration 0008 unified it with `t2dm`
_alias(Disease, dm="t2dm", diabetes="t2dm", hypertension="htn")
AF_PREFIXES = ("I48", "I05", "I06", "I07", "I08", "I34", "I35")       # atrial fibrillation / valvular disease


class RiskLevel(Term):
    """Risk grade of a managed disease (stratification)."""

    LOW = "LOW", "低危"
    MODERATE = "MODERATE", "中危"
    HIGH = "HIGH", "高危"
    VERY_HIGH = "VERY_HIGH", "很高危"

    @property
    def rank(self) -> int:
        return list(RiskLevel).index(self) + 1

    @property
    def is_high(self) -> bool:
        return self in (RiskLevel.HIGH, RiskLevel.VERY_HIGH)

    @classmethod
    def rank_of(cls, code: str | None) -> int:
        """0 for ungraded (None), 1 … 4 from LOW to VERY_HIGH."""
        level = cls.parse(code)
        return level.rank if level else 0


_alias(RiskLevel, MEDIUM="MODERATE")
UNGRADED_LABEL = "未分层"


class ConditionStatus(Term):
    CONFIRMED = "confirmed", "确诊"
    SUSPECTED = "suspected", "疑似"
    RESOLVED = "resolved", "已痊愈"
    REFUTED = "refuted", "已排除"


class ConditionCategory(Term):
    DIAGNOSIS = "diagnosis", "诊断"
    COMPLICATION = "complication", "并发症"


class EncounterKind(Term):
    OUTPATIENT = "outpatient", "门诊"
    INPATIENT = "inpatient", "住院"
    EXAM = "exam", "体检"
    PUBLIC_HEALTH_VISIT = "public_health_visit", "公卫随访"
    EMERGENCY = "emergency", "急诊"
    FOLLOW_UP = "follow_up", "随访"


class MedicationStatus(Term):
    ACTIVE = "active", "在用"
    STOPPED = "stopped", "已停用"


class VisitType(Term):
    """How a follow-up visit was done (随访方式)."""

    OUTPATIENT = "outpatient", "门诊"
    HOME = "home", "入户"
    PHONE = "phone", "电话"
    ONLINE = "online", "线上"


class VisitStatus(Term):
    SCHEDULED = "scheduled", "待随访"
    STARTED = "started", "随访中"
    DONE = "done", "已完成"
    MISSED = "missed", "失访"
    CANCELLED = "cancelled", "已取消"


class Frequency(Term):
    """Dosing frequency of a drug on a care plan."""

    QD = "qd", "每日1次"
    BID = "bid", "每日2次"
    TID = "tid", "每日3次"
    QN = "qn", "每晚1次"
    QW = "qw", "每周1次"


class EducationTopic(Term):
    DIET_SALT = "diet_salt", "限盐与合理膳食"
    EXERCISE = "exercise", "运动"
    SMOKING = "smoking", "戒烟"
    ALCOHOL = "alcohol", "限酒"
    WEIGHT = "weight", "控制体重"
    MEDICATION = "medication", "规律服药"
    SELF_MONITORING = "self_monitoring", "自我监测"
    HYPOGLYCEMIA = "hypoglycemia", "低血糖识别与处理"
    FOOT_CARE = "foot_care", "糖尿病足护理"
    DANGER_SIGNS = "danger_signs", "危险信号与就医"
    PSYCHOLOGY = "psychology", "心理调适"


class RiskFactor(Term):
    """Questionnaire answers the screening tables read; `kind` is the type of the answer."""

    SMOKING = "smoking", "吸烟 (含被动吸烟)"
    EVER_SMOKER = "ever_smoker", "曾经吸烟"
    PACK_YEARS = "pack_years", "吸烟包年"
    DRINK_ML = "drink_ml", "每日饮酒 (纯酒精 mL)"
    INACTIVE = "inactive", "很少体育活动"
    HIGH_SALT = "high_salt", "长期高盐饮食"
    FAMHX_HTN = "famhx_htn", "高血压家族史"
    FAMHX_DM = "famhx_dm", "糖尿病家族史"
    FAMHX_PREMATURE_CVD = "famhx_premature_cvd", "早发心血管病家族史"
    FAMHX_STROKE = "famhx_stroke", "卒中家族史"
    FAMHX_RESP = "famhx_resp", "呼吸疾病家族史"
    FAMHX_CRC = "famhx_crc", "结直肠癌家族史"
    FAMHX_UPPER_GI_CANCER = "famhx_upper_gi_cancer", "食管癌/胃癌家族史"
    BIOMASS = "biomass", "煤炉或柴草烹饪/取暖"
    COUGH_WITHOUT_COLD = "cough_without_cold", "无感冒时经常咳嗽"
    DYSPNEA = "dyspnea", "气促"
    AF_OR_VALVULAR = "af_or_valvular", "房颤或心瓣膜病"
    HIGH_INCIDENCE_AREA = "high_incidence_area", "食管癌/胃癌高发地区居住"
    PRECANCEROUS_LESION = "precancerous_lesion", "胃/食管癌前病变"
    HP_INFECTION = "hp_infection", "幽门螺杆菌感染"
    OTHER_UGI_RISK = "other_ugi_risk", "上消化道癌其他危险因素"
    CHRONIC_CONSTIPATION = "chronic_constipation", "慢性便秘"
    CHRONIC_DIARRHOEA = "chronic_diarrhoea", "慢性腹泻"
    MUCUS_BLOODY_STOOL = "mucus_bloody_stool", "黏液血便"
    ADVERSE_LIFE_EVENT = "adverse_life_event", "不良生活事件史"
    APPENDICITIS_HISTORY = "appendicitis_history", "慢性阑尾炎或阑尾切除史"
    BILIARY_HISTORY = "biliary_history", "慢性胆道疾病史或胆囊切除史"
    PERSONAL_CANCER_HISTORY = "personal_cancer_history", "本人癌症史"
    POLYP_HISTORY = "polyp_history", "肠息肉史"

    @property
    def kind(self) -> type:
        return {"pack_years": float, "drink_ml": float, "dyspnea": str}.get(self.value, bool)


# -- people and places --------------------------------------------------------------------------------------------

class Sex(Term):
    M = "M", "男"
    F = "F", "女"


class OrgLevel(Term):
    COUNTY = "county", "县级"
    DEPARTMENT = "department", "科室"
    TOWNSHIP = "township", "乡镇"
    VILLAGE = "village", "村"


class Role(Term):
    """Role codes of the platform contract (DESIGN.md)."""

    COUNTY_SPECIALIST = "county_specialist", "县级专科医生"
    COUNTY_ADMIN = "county_admin", "县医共体管理员"
    TOWNSHIP_DOCTOR = "township_doctor", "乡镇医生"
    TOWNSHIP_PUBLIC_HEALTH = "township_public_health", "乡镇公卫医生"
    VILLAGE_DOCTOR = "village_doctor", "村医"
    PHARMACIST = "pharmacist", "药师"
    SUPERVISOR = "supervisor", "监管人员"
    PROCESS_OWNER = "process_owner", "流程负责人"
    TRAINER = "trainer", "培训负责人"
    PATIENT = "patient", "居民"
    INTEGRATION = "integration", "系统对接"
    EDUCATION_HEAD = "education_head", "科教科负责人"
    RESEARCHER = "researcher", "科研人员"


# -- work ---------------------------------------------------------------------------------------------------------

class InstanceStatus(Term):
    RUNNING = "running", "运行中"
    WAITING = "waiting", "等待中"
    COMPLETED = "completed", "已完成"
    ERROR = "error", "出错"
    SUSPENDED = "suspended", "已挂起"
    TERMINATED = "terminated", "已终止"


class TaskStatus(Term):
    OPEN = "open", "待办"
    COMPLETED = "completed", "已完成"
    CANCELLED = "cancelled", "已取消"


class CaseKind(Term):
    """Why screening flagged a resident."""

    CONFIRMED = "confirmed", "已确诊待核实"
    SUSPECTED = "suspected", "疑似"
    HIGH_RISK = "high_risk", "高危人群"


class CaseStatus(Term):
    FLAGGED = "flagged", "待核实"
    VERIFYING = "verifying", "核实中"
    VERIFIED = "verified", "已核实"
    NEEDS_TEST = "needs_test", "待检查"
    DIAGNOSED = "diagnosed", "已确诊"
    REJECTED = "rejected", "已排除"
    REFERRED = "referred", "已转上级医院确诊"
    ENROLLED = "enrolled", "已建档"
    CLOSED = "closed", "已关闭"
    PREVENTION = "prevention", "预防管理中"


class CarePlanStatus(Term):
    """Status of a care plan (`drafting` until its first version is approved) and of its versions."""

    DRAFTING = "drafting", "起草中"
    ACTIVE = "active", "执行中"
    DRAFT = "draft", "草稿"
    PENDING_APPROVAL = "pending_approval", "待审核"
    RETURNED = "returned", "已退回"
    APPROVED = "approved", "已批准"
    ACKNOWLEDGED = "acknowledged", "已确认接收"
    SUPERSEDED = "superseded", "已替换"
    CANCELLED = "cancelled", "已撤销"
    EXPIRED = "expired", "已过期"


class DeliveryStatus(Term):
    """Status of an inbound delivery (webhook, HL7 v2, FHIR)."""

    RECEIVED = "received", "已接收"
    PROCESSED = "processed", "已处理"
    WAITING = "waiting", "等待中"
    REJECTED = "rejected", "已拒收"
    FAILED = "failed", "失败"
    EXPIRED = "expired", "已过期"


# -- training (wave2 §5) ------------------------------------------------------------------------------------------

class TrainingCategory(Term):
    BUSINESS = "business", "业务培训"
    APPROPRIATE_TECH = "appropriate_tech", "适宜技术推广"
    CME_PROJECT = "cme_project", "继续医学教育项目"
    REMOTE_TEACHING = "remote_teaching", "远程教学"


class ProjectLevel(Term):
    """Level of a training project, which decides its credit class (R8)."""

    NATIONAL_1 = "national_1", "国家级I类"
    PROVINCIAL_1 = "provincial_1", "省级I类"
    MUNICIPAL = "municipal", "市级"
    IN_HOUSE_2 = "in_house_2", "院内II类"
    NONE = "none", "非学分项目"


class TrainingMode(Term):
    OFFLINE = "offline", "线下"
    LIVE = "live", "线上直播"
    RECORDED = "recorded", "录播"


class TrainingAssessment(Term):
    EXAM = "exam", "考试"
    ATTENDANCE = "attendance", "出勤"


class TrainingPhase(Term):
    """Where a training session stands (set by the `training_session` process)."""

    PLANNED = "planned", "计划中"
    PENDING_APPROVAL = "pending_approval", "待审批"
    REVISING = "revising", "退回修改"
    APPROVED = "approved", "已批准"
    NOTIFIED = "notified", "已通知"
    SIGN_IN_OPEN = "sign_in_open", "签到中"
    ATTENDANCE_CLOSED = "attendance_closed", "已结束签到"
    MATERIALS_DONE = "materials_done", "资料已齐"
    EXAM_OPEN = "exam_open", "考试中"
    EXAM_CLOSED = "exam_closed", "考试结束"
    MAKEUP_OPEN = "makeup_open", "补考中"
    MAKEUP_CLOSED = "makeup_closed", "补考结束"
    SUMMARY = "summary", "小结中"
    COMPLETED = "completed", "已完成"
    CANCELLED = "cancelled", "已取消"


class EnrolmentResponse(Term):
    PENDING = "pending", "未回复"
    CONFIRMED = "confirmed", "确认参加"
    DECLINED = "declined", "请假"


class SignInMethod(Term):
    QR = "qr", "扫码"
    MANUAL = "manual", "人工补签"
    ONLINE = "online", "线上"


class MaterialKind(Term):
    SLIDES = "slides", "课件"
    DOCUMENT = "document", "文档"
    VIDEO = "video", "视频"
    PHOTO = "photo", "现场照片"


class ExamItemKind(Term):
    SINGLE = "single", "单选题"
    MULTIPLE = "multiple", "多选题"
    TRUE_FALSE = "true_false", "判断题"


class CreditClass(Term):
    I = "I", "I类"
    II = "II", "II类"
    NONE = "none", "不计学分"


class RecordSource(Term):
    """Where a fact on the health record came from (the record shows these words, never the stored code)."""
    HIS = "his", "医院信息系统"
    PUBLIC_HEALTH = "public_health", "基本公卫"
    FOLLOW_UP = "follow_up", "随访"
    SCREENING = "screening", "筛查"
    REFERRAL = "referral", "转诊"
    GRADING = "grading", "风险分层"
    CLINICIAN = "clinician", "医生复核"
    MANUAL = "manual", "手工录入"
    VILLAGE_APP = "village_app", "村医录入"
    INSURANCE = "insurance", "医保"
    PATIENT = "patient", "患者自测"


VOCABULARIES: dict[str, type[Term]] = {
    "disease": Disease, "risk_level": RiskLevel, "condition_status": ConditionStatus,
    "condition_category": ConditionCategory, "encounter_kind": EncounterKind, "medication_status": MedicationStatus,
    "visit_type": VisitType, "visit_status": VisitStatus, "frequency": Frequency, "education_topic": EducationTopic,
    "risk_factor": RiskFactor, "sex": Sex, "org_level": OrgLevel, "role": Role, "instance_status": InstanceStatus,
    "task_status": TaskStatus, "case_kind": CaseKind, "case_status": CaseStatus, "care_plan_status": CarePlanStatus,
    "delivery_status": DeliveryStatus, "training_category": TrainingCategory, "project_level": ProjectLevel,
    "training_mode": TrainingMode, "training_assessment": TrainingAssessment, "training_phase": TrainingPhase,
    "enrolment_response": EnrolmentResponse, "sign_in_method": SignInMethod, "material_kind": MaterialKind,
    "exam_item_kind": ExamItemKind, "credit_class": CreditClass, "record_source": RecordSource,
}


def catalog() -> dict[str, list[dict[str, Any]]]:
    """Every vocabulary as `{name: [{code, label, aliases?}, …]}` plus the observation codes (LOINC) and the display
    time zone (one term: its IANA name)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for name, term in VOCABULARIES.items():
        reverse: dict[str, list[str]] = {}
        for alias, target in _ALIASES.get(term.__name__, {}).items():
            reverse.setdefault(target, []).append(alias)
        out[name] = [{"code": m.value, "label": m.label, **({"aliases": reverse[m.value]} if m.value in reverse
                                                                   else {})} for m in term]
    out["observation_code"] = [{"code": c.code, "label": c.name, "unit": c.unit} for c in loinc.SUPPORTED.values()]
    # the one clock's display time zone (Settings.display_tz), so the UI shows times and "today" as the server does
    out["display_time_zone"] = [{"code": clock.tz_name(), "label": TIME_ZONE_LABELS.get(clock.tz_name(),
                                                                                      clock.tz_name())}]
    return out


TIME_ZONE_LABELS = {"Asia/Shanghai": "北京时间"}

