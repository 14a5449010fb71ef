"""The forms with fields to validate.

Every POST, these and the templates' one-button forms (sign out, cart lines, demo rows) alike, has
its CSRF token checked by the app's CSRFProtect.
"""

from flask_wtf import FlaskForm
from wtforms import (
    EmailField,
    HiddenField,
    IntegerField,
    PasswordField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, EqualTo, Length, NumberRange, Regexp

from vitrina_shared.ids import MAX_ID_LENGTH

MAX_QTY = 99
EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


class AddToCartForm(FlaskForm):
    qty = IntegerField("Quantity", default=1, validators=[NumberRange(1, MAX_QTY)])


class CartLineForm(FlaskForm):
    """Set a cart line's quantity; 0 removes the product."""

    qty = IntegerField("Quantity", validators=[NumberRange(0, MAX_QTY)])


class CheckoutForm(FlaskForm):
    """`key` is made when the page is shown: submitting the same form twice places one order."""

    key = HiddenField(validators=[DataRequired(), Length(max=64)])
    name = StringField("Name", validators=[DataRequired(), Length(max=100)])
    address = TextAreaField("Delivery address", validators=[DataRequired(), Length(5, 500)])


class RegisterForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=100)])
    email = EmailField(
        "Email", validators=[DataRequired(), Length(max=254), Regexp(EMAIL, message="Not an email")]
    )
    password = PasswordField("Password", validators=[DataRequired(), Length(8, 128)])
    confirm = PasswordField(
        "Repeat password", validators=[EqualTo("password", message="Passwords differ")]
    )


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=128)])


class DemoSwitchForm(FlaskForm):
    user_id = StringField("Customer id", validators=[DataRequired(), Length(max=MAX_ID_LENGTH)])
