"""Codes of expert liaison and their Chinese labels (the UI shows labels, never codes)."""
from __future__ import annotations

from datetime import time

KINDS = {"visit": "下沉坐诊", "on_call": "值班"}
HALF_DAYS = {"am": "上午", "pm": "下午", "day": "全天"}
# a visit half-day as the townships run it; an on-call day runs 08:00 to 08:00 the next morning
SESSION_HOURS = {"am": (time(8, 30), time(11, 30)), "pm": (time(14, 0), time(17, 0)), "day": (time(8, 0), time(8, 0))}
DUTY_STATUSES = {"scheduled": "已排班", "delivered": "已到岗", "cancelled": "已取消"}
BOOKING_KINDS = {"joint_clinic": "联合门诊", "consult": "远程会诊"}
BOOKING_STATUSES = {"booked": "已预约", "attended": "已就诊", "cancelled": "已取消"}
PLAN_STATUSES = {"pending_approval": "待审批", "returned": "退回修改", "active": "实施中", "evaluating": "待终期评估",
                 "closed": "已结题", "rejected": "未批准"}
MILESTONE_STATUSES = {"pending": "待评估", "met": "已达标", "missed": "未达标"}
MAX_CAPACITY = 40
EDITORS = ("county_admin",)                 # 县医共体管理员 (医务科) keeps the rota
