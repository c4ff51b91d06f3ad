from django.contrib.auth import views as auth_views
from django.urls import path

from accounts import views
from accounts.forms import ResetPasswordForm

urlpatterns = [
    path("accounts/signup/", views.signup, name="signup"),
    path("accounts/claim/<str:token>/", views.account_claim, name="account-claim"),
    path("accounts/login/", views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password-reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path("accounts/password-reset/sent/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "accounts/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(form_class=ResetPasswordForm),
        name="password_reset_confirm",
    ),
    path("accounts/reset/done/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path("account/", views.account, name="account"),
    path("account/custom-fields/", views.account_custom_fields, name="account-custom-fields"),
    path("account/email/", views.account_email_change, name="account-email-change"),
    path("account/email/<str:token>/", views.email_change_confirm, name="email-change-confirm"),
    path("verify-email/resend/", views.verify_email_resend, name="verify-email-resend"),
    path("verify-email/<str:token>/", views.verify_email, name="verify-email"),
    path("a/<str:token>/login/", views.action_login, name="action-login"),
    path("a/<str:token>/unsubscribe/", views.action_unsubscribe, name="action-unsubscribe"),
]
