"""Codes of remote consultation and their Chinese labels (the UI shows labels, never codes)."""
from __future__ import annotations

TYPES = {"single": "单学科", "mdt": "多学科MDT", "imaging": "影像", "ecg": "心电", "pathology": "病理", "lab": "检验"}
MODES = {"realtime": "实时视频", "offline": "离线"}
URGENCIES = {"urgent": "急", "routine": "普通", "scheduled": "预约"}
TITLES = {"resident": "住院医师", "attending": "主治医师", "associate_chief": "副主任医师", "chief": "主任医师"}
TITLE_RANK = {"resident": 1, "attending": 2, "associate_chief": 3, "chief": 4}
SIGNERS = {"patient": "本人", "guardian": "监护人", "relative": "近亲属"}
ADOPTION = {"all": "全部采纳", "partial": "部分采纳", "none": "未采纳"}
STATUSES = {
    "requested": "已申请", "consent_pending": "待知情同意", "reviewing": "待申请审核", "returned": "退回补充",
    "invited": "待受理", "accepted": "已受理待排班", "scheduled": "已排班", "reported": "已出具报告",
    "adopted": "待评价", "closed": "已完成", "declined": "已拒绝", "refused": "无协议被拒", "cancelled": "已撤销",
}
OPEN = ("requested", "consent_pending", "reviewing", "returned", "invited", "accepted", "scheduled")
SPECIALTIES = {"cardiology": "心血管内科", "endocrinology": "内分泌科", "neurology": "神经内科",
               "respiratory": "呼吸内科", "nephrology": "肾内科", "radiology": "医学影像科", "ecg": "心电诊断",
               "pathology": "病理科", "laboratory": "检验科", "general_medicine": "全科医学",
               "interventional": "介入治疗"}
