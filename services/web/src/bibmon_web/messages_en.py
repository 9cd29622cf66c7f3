"""The English catalogue: Dutch source text → English (tests list any text missing here)."""

EN: dict[str, str] = {
    # layout
    "Bibliotheekmonitor": "Library Monitor",
    "Naar de inhoud": "Skip to content",
    "Koninklijke Bibliotheek": "KB, National Library of the Netherlands",
    "Uitloggen": "Log out",
    "Inloggen": "Log in",
    "Start": "Home",
    "Vragenlijsten": "Questionnaires",
    "Veelgestelde vragen": "Frequently asked questions",
    "De Bibliotheekmonitor is een dienst van de KB, de nationale bibliotheek, voor alle "
    "openbare bibliotheken in Nederland.": "The Library Monitor is a service of the KB, the "
    "national library, for all public libraries in the Netherlands.",
    "Vragen?": "Questions?",
    "Privacy": "Privacy",
    "Taal en account": "Language and account",
    "Hoofdmenu": "Main menu",
    # errors
    "Er ging iets mis": "Something went wrong",
    "Pagina niet gevonden": "Page not found",
    "Deze pagina bestaat niet (meer), of u hebt er geen toegang toe.": "This page does not "
    "exist (any more), or you have no access to it.",
    "Geen toegang": "No access",
    "U hebt met uw account geen toegang tot deze pagina.": "Your account has no access to "
    "this page.",
    "Het formulier is verlopen": "The form has expired",
    "Ga terug, laad de pagina opnieuw en probeer het nog eens.": "Go back, reload the page "
    "and try again.",
    "Tijdelijk niet beschikbaar": "Temporarily unavailable",
    "Een onderdeel van de Bibliotheekmonitor reageert nu niet. Probeer het over een paar "
    "minuten opnieuw; wat u hebt opgeslagen blijft bewaard.": "Part of the Library Monitor "
    "is not answering. Try again in a few minutes; whatever you saved is kept.",
    "Naar de startpagina": "To the home page",
    "Hulp nodig? Mail naar": "Need help? Mail",
    # login
    "U bent uitgelogd.": "You are logged out.",
    "Log in met de gebruikersnaam en het wachtwoord van uw account bij de "
    "Bibliotheekmonitor.": "Log in with the username and password of your Library Monitor account.",
    "Gebruikersnaam": "Username",
    "Wachtwoord": "Password",
    "Wachtwoord vergeten": "Forgot password",
    "Account aanvragen": "Request an account",
    "Inloggen: code": "Log in: code",
    "Code uit uw authenticator-app": "Code from your authenticator app",
    "Uw account is beveiligd met tweestapsverificatie. Vul de code van zes cijfers in die uw "
    "app nu toont, of een van uw herstelcodes.": "Your account uses two-step verification. "
    "Enter the six-digit code your app shows now, or one of your recovery codes.",
    "Code": "Code",
    "Controleer het formulier": "Please check the form",
    "Vul uw gebruikersnaam in.": "Enter your username.",
    "Vul uw wachtwoord in.": "Enter your password.",
    "Te veel pogingen. Probeer het over een paar minuten opnieuw.": "Too many attempts. Try "
    "again in a few minutes.",
    "De gebruikersnaam of het wachtwoord klopt niet.": "The username or password is wrong.",
    "Vul de code uit uw authenticator-app in.": "Enter the code from your authenticator app.",
    "Log opnieuw in: de tweede stap is verlopen.": "Please log in again: the second step "
    "has expired.",
    "Deze code klopt niet. Probeer de code die uw app nu toont.": "This code is wrong. Try "
    "the code your app shows now.",
    # passwords
    "Als de gebruikersnaam en het e-mailadres bij elkaar horen, ontvangt u binnen enkele "
    "minuten een e-mail met een link om een nieuw wachtwoord in te stellen. De link is 30 "
    "minuten geldig.": "If the username and e-mail address belong together, you will "
    "receive an e-mail within a few minutes with a link to set a new password. The link is "
    "valid for 30 minutes.",
    "Geen e-mail ontvangen? Kijk ook in uw map met ongewenste e-mail, of mail naar": "No "
    "e-mail? Also look in your spam folder, or mail",
    "Terug naar inloggen": "Back to log in",
    "Vul uw gebruikersnaam en het e-mailadres van uw account in. U krijgt dan een link om "
    "een nieuw wachtwoord in te stellen.": "Enter your username and your account's e-mail "
    "address. You will receive a link to set a new password.",
    "Link aanvragen": "Send me a link",
    "E-mailadres": "E-mail address",
    "Vul een e-mailadres in, zoals naam@bibliotheek.nl.": "Enter an e-mail address, such as "
    "name@library.nl.",
    "Wachtwoord instellen": "Set your password",
    "Nieuw wachtwoord": "New password",
    "Uw wachtwoord is ingesteld. U kunt nu inloggen.": "Your password is set. You can log in now.",
    "Naar inloggen": "To log in",
    "Link uit de e-mail": "Link from the e-mail",
    "Herhaal het nieuwe wachtwoord": "Repeat the new password",
    "Kies een wachtwoord van minstens 15 tekens (12 als u tweestapsverificatie gebruikt). "
    "Een zin van een paar woorden is sterk en goed te onthouden.": "Choose a password of at "
    "least 15 characters (12 if you use two-step verification). A sentence of a few words "
    "is strong and easy to remember.",
    "Plak hier de hele link uit de e-mail. Staat de code na #token= er al in, dan hoeft u "
    "niets te doen.": "Paste the whole link from the e-mail here. If the code after #token= "
    "is already filled in, there is nothing to do.",
    "Alleen nodig als u tweestapsverificatie gebruikt.": "Only needed if you use two-step "
    "verification.",
    "Wachtwoord opslaan": "Save password",
    "Plak hier de hele link uit de e-mail (met het deel na #token=).": "Paste the whole link "
    "from the e-mail here (with the part after #token=).",
    "Kies een wachtwoord.": "Choose a password.",
    "De twee wachtwoorden zijn niet gelijk.": "The two passwords differ.",
    "Dit wachtwoord is te lang.": "This password is too long.",
    "Gebruik minstens {n} tekens.": "Use at least {n} characters.",
    "Dit wachtwoord komt te vaak voor; kies een ander.": "This password is too common; "
    "choose another one.",
    "Dit wachtwoord is een herhaling of reeks; kies een ander.": "This password is a "
    "repetition or sequence; choose another one.",
    "Dit wachtwoord lijkt te veel op uw naam, gebruikersnaam, organisatie of dit platform; "
    "kies een ander.": "This password is too close to your name, username, organisation or "
    "this platform; choose another one.",
    "Deze link is ongeldig, al gebruikt of verlopen. Vraag een nieuwe aan via ‘Wachtwoord "
    "vergeten’.": "This link is invalid, used or expired. Request a new one via ‘Forgot password’.",
    "Vul een actuele code uit uw authenticator-app in (of een herstelcode).": "Enter a "
    "current code from your authenticator app (or a recovery code).",
    "Vul dit veld in.": "Fill in this field.",
    "Deze waarde klopt niet.": "This value is not valid.",
    "Deze tekst is te lang.": "This text is too long.",
    # account request
    "Uw aanvraag voor {org} is ontvangen. De KB beoordeelt haar; na goedkeuring ontvangt u "
    "een e-mail met een link om uw wachtwoord in te stellen.": "Your request for {org} has "
    "been received. The KB reviews it; once approved you receive an e-mail with a link to "
    "set your password.",
    "Uw naam": "Your name",
    "Bibliotheek": "Library",
    "Toelichting (niet verplicht)": "Message (optional)",
    "Werkt u bij een openbare bibliotheek en vult u de vragenlijsten van de "
    "Bibliotheekmonitor in? Vraag dan hier een account aan.": "Do you work at a public "
    "library and fill in the Library Monitor's questionnaires? Request an account here.",
    "Het liefst het e-mailadres van uw werk.": "Preferably your work e-mail address.",
    "Typ een deel van de naam en kies uw bibliotheek uit de lijst.": "Type part of the name "
    "and pick your library from the list.",
    "Bedoelt u een van deze bibliotheken?": "Do you mean one of these libraries?",
    "Aanvraag versturen": "Send request",
    "Vul uw naam in.": "Enter your name.",
    "Kies uw bibliotheek hieronder.": "Pick your library below.",
    "Kies de naam van uw bibliotheek uit de lijst.": "Pick your library's name from the list.",
    # start and questionnaire list
    "Welkom, {name}": "Welcome, {name}",
    "Openstaande vragenlijsten": "Open questionnaires",
    "U bent ingelogd als medewerker van de KB.": "You are logged in as KB staff.",
    "Er staan op dit moment geen vragenlijsten voor uw bibliotheek open.": "There are no "
    "open questionnaires for your library at the moment.",
    "Inleveren vóór": "Deadline",
    "Verplicht": "Mandatory",
    "op grond van de Wsob": "under the Wsob (Public Library Act)",
    "op grond van de subsidieregeling": "under the subsidy scheme",
    "Status": "Status",
    "Contactpersoon": "Contact person",
    "nog niet aangemeld": "not registered yet",
    "Niet begonnen": "Not started",
    "Concept": "Draft",
    "Ingediend": "Submitted",
    "Geaccepteerd": "Accepted",
    "Teruggestuurd": "Returned",
    "Heropend": "Reopened",
    # questionnaire
    "Mijzelf aanmelden als contactpersoon": "Register myself as contact person",
    "De contactpersoon krijgt de e-mails over deze vragenlijst (herinneringen, "
    "ontvangstbevestiging). Is er geen contactpersoon, dan gaan ze naar de vaste "
    "contactpersoon van uw bibliotheek. Een collega meldt zich zelf aan na het inloggen.": "The "
    "contact person receives this questionnaire's e-mails (reminders, receipt). Without "
    "one, they go to your library's primary contact. A colleague registers after logging in.",
    "Teruggestuurd met de opmerking:": "Returned with the remark:",
    "Uw antwoorden zijn opgeslagen.": "Your answers have been saved.",
    "Deze vragenlijst kan niet meer worden gewijzigd: ze is gesloten of al ingediend.": "This "
    "questionnaire can no longer be changed: it is closed or already submitted.",
    "Deze vragenlijst is ingediend of gesloten; u kunt de antwoorden alleen bekijken.": "This "
    "questionnaire is submitted or closed; you can only view the answers.",
    "Bekijk het ontvangstbewijs": "View the receipt",
    "Onderdelen": "Sections",
    "Onderdelen van de vragenlijst": "Sections of the questionnaire",
    "Laatst opgeslagen: {when}": "Last saved: {when}",
    "Opslaan": "Save",
    "Opslaan en naar indienen": "Save and go to submit",
    "Bezig met opslaan…": "Saving…",
    "Niet opgeslagen: controleer uw verbinding en klik op Opslaan.": "Not saved: check your "
    "connection and click Save.",
    "Niet alles is opgeslagen": "Not everything was saved",
    "een collega heeft dit antwoord intussen gewijzigd.": "a colleague changed this answer "
    "meanwhile.",
    "Niet opgeslagen: deze vragenlijst kan niet meer worden gewijzigd.": "Not saved: this "
    "questionnaire can no longer be changed.",
    "Niet alles is opgeslagen: zie de meldingen bij de vragen.": "Not everything was saved: "
    "see the messages at the questions.",
    "Opgeslagen om {when}": "Saved at {when}",
    "Een collega heeft het antwoord op ‘{label}’ intussen gewijzigd in: {theirs}. Uw invoer "
    "({mine}) is niet opgeslagen. Vul opnieuw uw antwoord in als dat juist is.": "A colleague "
    "changed the answer to ‘{label}’ meanwhile to: {theirs}. Your entry ({mine}) was not "
    "saved. Enter your answer again if it is the right one.",
    "Dit antwoord is zojuist door een collega gewijzigd.": "A colleague just changed this answer.",
    "Bij het indienen vragen we u om een toelichting.": "When you submit, we ask you to "
    "explain it.",
    "verplicht": "required",
    "Ja": "Yes",
    "Nee": "No",
    "Geen antwoord": "No answer",
    "Vorige keer:": "Last time:",
    "Vul een heel getal in, zonder komma.": "Enter a whole number.",
    "Vul een getal in, bijvoorbeeld 12,5.": "Enter a number, for example 12.5.",
    "Kies uit de opties.": "Pick one of the options.",
    "Kies ja of nee.": "Pick yes or no.",
    "Vul een datum in als jjjj-mm-dd.": "Enter a date as yyyy-mm-dd.",
    # submit and receipt
    "Indienen": "Submit",
    "Terug naar de vragenlijst": "Back to the questionnaire",
    "Controleren en indienen": "Check and submit",
    "Nog niet klaar om in te dienen": "Not ready to submit yet",
    "Toelichting bij ‘{label}’": "Explanation of ‘{label}’",
    "Deze vragenlijst is al ingediend.": "This questionnaire has already been submitted.",
    "Uw antwoorden": "Your answers",
    "Opvallende antwoorden": "Notable answers",
    "Sommige antwoorden wijken sterk af van vorig jaar of van andere bibliotheken. Dat kan "
    "kloppen; licht ze dan kort toe.": "Some answers differ a lot from last year or from "
    "other libraries. That may be right; please explain them briefly.",
    "Na het indienen ontvangt de contactpersoon een bevestiging per e-mail. Wilt u daarna "
    "nog iets wijzigen, neem dan contact op met de KB.": "After submitting, the contact "
    "person receives a confirmation by e-mail. To change anything afterwards, contact the KB.",
    "Vragenlijst indienen": "Submit questionnaire",
    "Antwoorden wijzigen": "Change answers",
    "Vraag": "Question",
    "Uw antwoord": "Your answer",
    "niet ingevuld": "not answered",
    "Ontvangstbewijs": "Receipt",
    "Bedankt! {org} heeft ‘{title}’ ingediend op {when}.": "Thank you! {org} submitted "
    "‘{title}’ on {when}.",
    "Vragenlijst": "Questionnaire",
    "Ingediend op": "Submitted on",
    "Indiening": "Submission",
    "De contactpersoon ontvangt ook een bevestiging per e-mail. Bewaar deze pagina of druk "
    "haar af als bewijs.": "The contact person also receives a confirmation by e-mail. Keep "
    "or print this page as proof.",
    "Deze vragenlijst is nog niet ingediend.": "This questionnaire has not been submitted yet.",
    "Naar de vragenlijst": "To the questionnaire",
    "Ingediende antwoorden": "Submitted answers",
    # account
    "Tweestapsverificatie": "Two-step verification",
    "QR-code": "QR code",
    "Uw account moet beveiligd zijn met tweestapsverificatie. U hebt daarvoor een "
    "authenticator-app op uw telefoon nodig, bijvoorbeeld Microsoft Authenticator, Google "
    "Authenticator of FreeOTP.": "Your account must use two-step verification. You need an "
    "authenticator app on your phone, such as Microsoft Authenticator, Google Authenticator "
    "or FreeOTP.",
    "Tweestapsverificatie instellen": "Set up two-step verification",
    "Scan deze QR-code met uw authenticator-app.": "Scan this QR code with your authenticator app.",
    "Lukt scannen niet? Voer dan deze sleutel in:": "Cannot scan? Enter this key instead:",
    "Vul de code van zes cijfers in die de app toont.": "Enter the six-digit code the app shows.",
    "Bevestigen": "Confirm",
    "Tweestapsverificatie staat aan.": "Two-step verification is on.",
    "Bewaar deze herstelcodes op een veilige plek. Elke code werkt één keer, als u uw "
    "telefoon niet bij de hand hebt. U ziet ze maar één keer.": "Keep these recovery codes "
    "in a safe place. Each works once, when you do not have your phone. You see them only "
    "once.",
    # administration
    "Accountaanvragen": "Account requests",
    "De aanvraag is goedgekeurd; de aanvrager krijgt een e-mail om een wachtwoord in te "
    "stellen.": "The request is approved; the applicant receives an e-mail to set a password.",
    "De aanvraag is afgewezen; de aanvrager krijgt een e-mail.": "The request is declined; "
    "the applicant receives an e-mail.",
    "Er zijn geen openstaande aanvragen.": "There are no pending requests.",
    "Aangevraagd op": "Requested on",
    "Gebruikersnaam (niet verplicht)": "Username (optional)",
    "Goedkeuren": "Approve",
    "Reden van afwijzing": "Reason for declining",
    "Afwijzen": "Decline",
    "Beheer": "Administration",
    # account setup and own account
    "Account instellen": "Set up your account",
    "Opslaan en verder": "Save and continue",
    "U logt voor het eerst in met het beheerdersaccount. Vul het e-mailadres in waarop u "
    "berichten van de Bibliotheekmonitor wilt ontvangen, en kies een eigen wachtwoord in "
    "plaats van het startwachtwoord. Daarna stelt u tweestapsverificatie in.": "This is the "
    "first login with the administrator account. Enter the e-mail address where you want to "
    "receive messages from the Library Monitor, and choose your own password instead of the "
    "initial one. Then you set up two-step verification.",
    "Mijn account": "My account",
    "Naam": "Name",
    "Organisatie": "Organisation",
    "Huidig wachtwoord": "Current password",
    "Wachtwoord wijzigen": "Change password",
    "Vul uw huidige wachtwoord in.": "Enter your current password.",
    "Dit is niet uw huidige wachtwoord.": "This is not your current password.",
    "Uw wachtwoord is gewijzigd. U bent op uw andere apparaten uitgelogd.": "Your password "
    "has been changed. You have been logged out on your other devices.",
    "Tweestapsverificatie staat uit.": "Two-step verification is off.",
    "Mijn gegevens": "My data",
    "Download alle persoonsgegevens die de Bibliotheekmonitor over u bewaart (AVG).": "Download "
    "all personal data the Library Monitor holds about you (GDPR).",
    "Mijn gegevens downloaden (JSON)": "Download my data (JSON)",
    # open data
    "Open data": "Open data",
    "De antwoorden van de bibliotheken op afgesloten vragenlijsten, per "
    "bibliotheekorganisatie. Vrij te gebruiken onder de genoemde licentie.": "The libraries' "
    "answers to closed questionnaires, per library organisation. Free to use under the "
    "licence named.",
    "Elke dataset is er als CSV en als JSON, met een databeschrijving (welke kolom wat "
    "betekent). Gegevens over personen staan er nooit in.": "Every dataset comes as CSV and "
    "as JSON, with a data dictionary (what each column means). They never hold data about "
    "persons.",
    "Catalogus voor open-dataportalen (DCAT, JSON-LD)": "Catalogue for open-data portals "
    "(DCAT, JSON-LD)",
    "Jaar": "Year",
    "Bibliotheken": "Libraries",
    "Gepubliceerd op": "Published on",
    "versie {n}": "version {n}",
    "Licentie": "Licence",
    "Downloads van {title}": "Downloads of {title}",
    "CSV": "CSV",
    "JSON": "JSON",
    "Databeschrijving": "Data dictionary",
    "Er zijn nog geen datasets gepubliceerd. Een dataset verschijnt hier zodra een "
    "vragenlijst is afgesloten.": "No datasets have been published yet. A dataset appears "
    "here once a questionnaire has closed.",
    # reports
    "Rapporten": "Reports",
    "gesloten op {date}": "closed on {date}",
    "Er zijn nog geen rapporten. Een rapport verschijnt hier zodra een vragenlijst is "
    "afgesloten.": "There are no reports yet. A report appears here once a questionnaire has "
    "closed.",
    "Uw bibliotheek": "Your library",
    "Vergeleken met": "Compared with",
    "Aantal (n)": "Number (n)",
    "Antwoorden": "Answers",
    "Mediaan": "Median",
    "Gemiddelde": "Mean",
    "Middelste helft": "Middle half",
    "Lager dan u": "Below you",
    "te weinig deelnemers": "too few participants",
    "Provincie": "Province",
    "Grootteklasse": "Size class",
    "Bibliotheken meegeteld": "Libraries counted",
    "Berekend op": "Computed on",
    "Een groep met minder dan {n} bibliotheken die de vraag beantwoordden, tonen we niet: "
    "dan staat er ‘te weinig deelnemers’.": "A group with fewer than {n} libraries that "
    "answered the question is not shown: it says ‘too few participants’ instead.",
    "Downloads": "Downloads",
    "Rapport (PDF)": "Report (PDF)",
    "Infographic (PNG)": "Infographic (PNG)",
    "Infographic (SVG)": "Infographic (SVG)",
    "Infographic met de kerncijfers van {name}": "Infographic with the key figures of {name}",
    "Kerncijfers": "Key figures",
    "Mediaan Nederland: {value}": "Median Netherlands: {value}",
    "Nederland": "Netherlands",
    "Per 1.000 inwoners": "Per 1,000 inhabitants",
    # KB administrator: users, organisations, failed e-mails; contact person (colleague)
    "(geen bibliotheek)": "(no library)",
    "(geen)": "(none)",
    "Aan": "On",
    "Aangemaakt op": "Created on",
    "Aanmelden als contactpersoon": "Register as contact person",
    "Account": "Account",
    "Account geblokkeerd": "Account locked",
    "Account uitschakelen": "Disable account",
    "Account weer inschakelen": "Enable account again",
    "Accountaanvraag afgewezen": "Account request rejected",
    "Accountaanvraag ontvangen": "Account request received",
    "Actief": "Active",
    "Alle e-mails": "All e-mails",
    "Annuleren": "Cancel",
    "Bibliotheekmedewerker": "Library staff",
    "Bron": "Source",
    "Bron (niet verplicht)": "Source (optional)",
    "Contactpersoon aanmelden": "Register a contact person",
    "De contactpersoon krijgt de e-mails over deze vragenlijst (herinneringen, "
    "ontvangstbevestiging). Is er geen contactpersoon, dan gaan ze naar de vaste contactpersoon"
    " van uw bibliotheek.": (
        "The contact person receives the e-mails about this questionnaire (reminders, receipt). "
        "Without a contact person, they go to your library's primary contact."
    ),
    "De contactpersoon krijgt de e-mails over ‘{title}’: herinneringen en de "
    "ontvangstbevestiging. U kunt uzelf of een collega van uw bibliotheek aanmelden.": (
        "The contact person receives the e-mails about ‘{title}’: reminders and the receipt. You "
        "can register yourself or a colleague of your library."
    ),
    "De e-mail staat weer in de wachtrij en wordt zo verstuurd.": (
        "The e-mail is queued again and will be sent shortly."
    ),
    "De gebruiker is aangemaakt en krijgt een e-mail om een wachtwoord in te stellen.": (
        "The user has been created and receives an e-mail to set a password."
    ),
    "De gebruiker is verwijderd; de persoonsgegevens zijn gewist.": (
        "The user has been deleted; their personal data is erased."
    ),
    "De nieuwe gebruiker krijgt een e-mail met een link om een wachtwoord in te stellen.": (
        "The new user receives an e-mail with a link to set a password."
    ),
    "De wijzigingen zijn opgeslagen.": "The changes have been saved.",
    "Definitief verwijderen": "Delete permanently",
    "Deze bibliotheek heeft nog geen gebruikers.": "This library has no users yet.",
    "Deze e-mail kan niet opnieuw worden verstuurd.": "This e-mail cannot be sent again.",
    "Deze persoon kan geen contactpersoon worden: alleen actieve medewerkers van uw bibliotheek"
    " kunnen dat.": (
        "This person cannot become contact person: only active staff of your library can."
    ),
    "E-mail": "E-mail",
    "E-mailadres gewijzigd": "E-mail address changed",
    "E-mails": "E-mails",
    "E-mails die na alle pogingen niet verstuurd konden worden, of waarvoor geen ontvanger "
    "bekend was. Verstuur ze opnieuw nadat de oorzaak is verholpen (bijvoorbeeld een "
    "contactpersoon aangemeld). Aan wie een e-mail gaat, toont de Bibliotheekmonitor hier niet.": (
        "E-mails that could not be sent after every attempt, or for which no recipient was known. "
        "Send them again once the cause is fixed (for example a contact person registered). The "
        "Library Monitor does not show here to whom an e-mail goes."
    ),
    "Een collega aanmelden als contactpersoon": "Register a colleague as contact person",
    "Een deel van de gebruikersnaam, de naam of het e-mailadres.": (
        "Part of the username, the name or the e-mail address."
    ),
    "Een deel van de naam of van een gemeente in het werkgebied.": (
        "Part of the name or of a municipality in its area."
    ),
    "Een nieuw adres beëindigt de sessies van de gebruiker; het oude adres krijgt daarvan "
    "bericht.": ("A new address ends the user's sessions; the old address is notified."),
    "Er was geen contactpersoon voor deze vragenlijst en geen vaste contactpersoon van de "
    "bibliotheek. Stel bij de organisatie een vaste contactpersoon in en verstuur de e-mail "
    "daarna opnieuw.": (
        "There was no contact person for this questionnaire and no primary contact of the library. "
        "Set a primary contact on the organisation's page, then send the e-mail again."
    ),
    "Er was niets gewijzigd.": "Nothing was changed.",
    "Er zijn geen e-mails die aandacht nodig hebben.": "No e-mails need attention.",
    "Eén gemeente per regel.": "One municipality per line.",
    "Gebruiker aanmaken": "Create user",
    "Gebruiker verwijderen": "Delete user",
    "Gebruiker verwijderen (AVG)": "Delete user (GDPR)",
    "Gebruikers": "Users",
    "Geen e-mails gevonden.": "No e-mails found.",
    "Geen ontvanger": "No recipient",
    "Gegevens en rollen wijzigen": "Change details and roles",
    "Gegevens wijzigen": "Change details",
    "Gemeenten": "Municipalities",
    "Herinnering vragenlijst": "Questionnaire reminder",
    "Het account is uitgeschakeld; lopende sessies zijn beëindigd.": (
        "The account is disabled; its sessions have ended."
    ),
    "Het account is weer ingeschakeld.": "The account is enabled again.",
    "In de wachtrij": "Queued",
    "Inwoners": "Inhabitants",
    "Inwoners van het werkgebied; bepaalt de grootteklasse.": (
        "Inhabitants of the area served; sets the size class."
    ),
    "KB-beheerder": "KB administrator",
    "Kies wie de contactpersoon wordt.": "Choose who becomes the contact person.",
    "Krijgt de e-mails over een vragenlijst als de bibliotheek daarvoor geen contactpersoon "
    "heeft aangemeld.": (
        "Receives the e-mails about a questionnaire when the library registered no contact person "
        "for it."
    ),
    "Laatst gewijzigd": "Last changed",
    "Laatst ingelogd": "Last logged in",
    "Laatste foutmelding": "Last error",
    "Leeg laten: de Bibliotheekmonitor kiest er een.": (
        "Leave empty: the Library Monitor picks one."
    ),
    "Medewerkers": "Staff",
    "Mislukt": "Failed",
    "Mislukte e-mails": "Failed e-mails",
    "Nieuwe gebruiker": "New user",
    "Nog geen wachtwoord": "No password yet",
    "Nu aangemeld:": "Registered now:",
    "Onderzoeker": "Researcher",
    "Ontvangstbevestiging": "Receipt",
    "Opnieuw versturen": "Send again",
    "Organisaties": "Organisations",
    "Oudere e-mails": "Older e-mails",
    "Pagina {page} van {pages}": "Page {page} of {pages}",
    "Pagina’s": "Pages",
    "Pogingen": "Attempts",
    "Rapport klaar": "Report ready",
    "Rollen": "Roles",
    "Soort e-mail": "Kind of e-mail",
    "Staat uw collega er niet bij? Alleen wie een actief account bij uw bibliotheek heeft, "
    "staat in de lijst; een account vraagt uw collega aan via ‘Account aanvragen’.": (
        "Is your colleague not listed? Only people with an active account at your library are; your"
        " colleague asks for one via ‘Request an account’."
    ),
    "Telefoon kwijt? Wis de tweestapsverificatie; de gebruiker stelt haar bij de volgende keer "
    "inloggen opnieuw in.": (
        "Phone lost? Clear the two-step verification; the user sets it up again at the next login."
    ),
    "Terug naar de nieuwste": "Back to the newest",
    "Tonen": "Show",
    "Toon": "Show",
    "Tweestapsverificatie is gewist; bij de volgende keer inloggen stelt de gebruiker haar "
    "opnieuw in.": (
        "Two-step verification is cleared; the user sets it up again at the next login."
    ),
    "Tweestapsverificatie wissen": "Clear two-step verification",
    "U verwijdert {name} ({username}). De persoonsgegevens worden gewist, alle sessies eindigen"
    " en de andere onderdelen van de Bibliotheekmonitor vergeten deze persoon. Dit kan niet "
    "ongedaan worden gemaakt.": (
        "You are deleting {name} ({username}). The personal data is erased, every session ends and "
        "the other parts of the Library Monitor forget this person. This cannot be undone."
    ),
    "Uit": "Off",
    "Uitgeschakeld": "Disabled",
    "Uitnodiging vragenlijst": "Questionnaire invitation",
    "Uitschakelen beëindigt alle sessies; de gebruiker kan niet meer inloggen tot u het account"
    " weer inschakelt.": (
        "Disabling ends every session; the user cannot log in until you enable the account again."
    ),
    "Vaste contactpersoon": "Primary contact",
    "Verloopt op": "Expires on",
    "Verlopen": "Expired",
    "Verplicht voor bibliotheekmedewerkers; leeg voor KB-medewerkers en onderzoekers.": (
        "Required for library staff; empty for KB staff and researchers."
    ),
    "Verstuurd": "Sent",
    "Verstuurd op": "Sent on",
    "Volgende": "Next",
    "Volgende poging": "Next attempt",
    "Vorige": "Previous",
    "Vragenlijst teruggestuurd": "Questionnaire returned",
    "Vul een geheel getal in.": "Enter a whole number.",
    "Wachtwoord gewijzigd": "Password changed",
    "Wachtwoord herstellen": "Password reset",
    "Welkom: wachtwoord instellen": "Welcome: set a password",
    "Wie wordt de contactpersoon?": "Who becomes the contact person?",
    "Wijzigingen opslaan": "Save changes",
    "Wilt u iemand alleen tijdelijk de toegang ontnemen? Schakel het account dan uit.": (
        "Only want to take away access for a while? Disable the account instead."
    ),
    "Zoek een bibliotheek": "Search for a library",
    "Zoek een gebruiker": "Search for a user",
    "Zoeken": "Search",
    "nog niemand": "nobody yet",
    "nog nooit": "never",
    "uitgeschakeld": "disabled",
    "uzelf": "yourself",
    "vaste contactpersoon": "primary contact",
    "{n} gebruikers gevonden voor ‘{query}’.": "{n} users found for ‘{query}’.",
    "{n} gebruikers.": "{n} users.",
    "{n} organisaties gevonden voor ‘{query}’.": "{n} organisations found for ‘{query}’.",
    "{n} organisaties.": "{n} organisations.",
    "De ontvanger van deze e-mail is niet meer bekend: de mailserver weigerde haar "
    "definitief, of het account is verwijderd. Laat een nieuwe e-mail sturen (bijvoorbeeld "
    "via ‘Wachtwoord vergeten’).": "The recipient of this e-mail is no longer known: the mail "
    "server refused it for good, or the account was deleted. Have a new e-mail sent (for "
    "example via ‘Forgot password’).",
    "Deze e-mail is verlopen: de link erin werkt niet meer.": "This e-mail has expired: its "
    "link no longer works.",
    "Alleen mislukte e-mails, of e-mails zonder ontvanger, kunnen opnieuw worden verstuurd.": (
        "Only failed e-mails, or e-mails without a recipient, can be sent again."
    ),
}

# researchers: surveys, questionnaire builder, preview, publishing, progress, review, reports
EN.update(
    {
        "(altijd tonen)": "(always show)",
        "(vast, zodat antwoorden over de jaren vergelijkbaar blijven)": "(fixed, so answers "
        "stay comparable over the years)",
        "Accepteren": "Accept",
        "Alle bibliotheken": "All libraries",
        "Alle onderzoeken van de Bibliotheekmonitor. Open een onderzoek om de vragenlijst te "
        "bouwen, te publiceren of de voortgang te volgen.": "All surveys of the Library Monitor. "
        "Open a survey to build its questionnaire, publish it or follow its progress.",
        "Alle rapporten": "All reports",
        "Alleen als ‘{label}’ is: {value}": "Only if ‘{label}’ is: {value}",
        "Alleen bij een subsidieregeling.": "Only for a subsidy scheme.",
        "Alleen een subsidieregeling heeft een naam.": "Only a subsidy scheme has a name.",
        "Alleen keuzevragen hebben opties.": "Only choice questions have options.",
        "Alleen tonen als deze vraag": "Only show if this question",
        "Annuleren": "Cancel",
        "Bedrag in euro": "Amount in euro",
        "Beoordelen": "Review",
        "Bewerken": "Edit",
        "Bibliotheken in bepaalde provincies of grootteklassen": "Libraries in certain "
        "provinces or size classes",
        "Bibliotheken kiezen (bij ‘gekozen bibliotheken’)": "Choose libraries (for ‘chosen "
        "libraries’)",
        "Bij getallen (geheel getal, decimalen, percentage, bedrag)": "For numbers (whole "
        "number, decimals, percentage, amount)",
        "Bij keuzevragen": "For choice questions",
        "Bijvoorbeeld ‘bezoeken’ of ‘uur’ (niet bij percentage en bedrag).": "For example "
        "‘visits’ or ‘hours’ (not for percentages and amounts).",
        "Blijft gelijk over de jaren, zodat cijfers vergelijkbaar zijn. Leeg: gemaakt uit de "
        "vraag.": "Stays the same over the years, so figures compare. Empty: made from the "
        "question.",
        "Daarna liggen de deelnemers, de grondslag en de openingsdatum vast.": "After that the "
        "participants, the legal basis and the opening date are fixed.",
        "Datum": "Date",
        "Datum en tijd (Nederlandse tijd), bijvoorbeeld 2027-01-05 09:00.": "Date and time "
        "(Dutch time), for example 2027-01-05 09:00.",
        "De antwoorden kloppen: ze tellen mee in de rapporten.": "The answers are correct: "
        "they count in the reports.",
        "De antwoorden zelf zijn alleen voor onderzoekers zichtbaar.": "The answers themselves "
        "are visible to researchers only.",
        "De deadline voor de bibliotheken.": "The libraries' deadline.",
        "De inzending is geaccepteerd.": "The submission has been accepted.",
        "De inzending is heropend; de bibliotheek kan haar antwoorden corrigeren.": "The "
        "submission has been reopened; the library can correct its answers.",
        "De inzending is teruggestuurd; de contactpersoon krijgt een e-mail.": "The submission "
        "has been returned; the contact person receives an e-mail.",
        "De rapporten en de open data worden gemaakt van de geaccepteerde en ingediende "
        "antwoorden.": "The reports and the open data are made from the accepted and "
        "submitted answers.",
        "De vragenlijst is nog leeg. Begin met een onderdeel en de eerste vraag daarin.": "The "
        "questionnaire is still empty. Start with a section and its first question.",
        "De vragenlijst wordt versie 1. Latere wijzigingen worden nieuwe versies.": "The "
        "questionnaire becomes version 1. Later changes become new versions.",
        "De wijziging is opgeslagen.": "The change has been saved.",
        "De {n} deelnemende bibliotheken worden vastgelegd en hun contactpersonen krijgen een "
        "uitnodiging per e-mail.": "The {n} participating libraries are fixed and their "
        "contact persons receive an invitation by e-mail.",
        "Deelname is verplicht": "Taking part is mandatory",
        "Deelnemers": "Participants",
        "Deelnemers opslaan": "Save participants",
        "Deze bibliotheek is onbekend.": "This library is unknown.",
        "Deze provincie is onbekend.": "This province is unknown.",
        "Deze sleutel hoorde eerder bij een vraag van een ander soort; geef deze vraag een "
        "nieuwe sleutel.": "This key belonged to a question of another type before; give this "
        "question a new key.",
        "Deze sleutel wordt al door een ander onderdeel gebruikt.": "Another section already "
        "uses this key.",
        "Deze sleutel wordt al door een andere vraag gebruikt.": "Another question already "
        "uses this key.",
        "Dit antwoord past niet bij de vraag van de voorwaarde.": "This answer does not fit "
        "the question of the condition.",
        "Dit is een concept: alleen onderzoekers en KB-beheerders zien het. Bekijk het "
        "voorbeeld en publiceer het als de vragenlijst klaar is.": "This is a draft: only "
        "researchers and KB administrators see it. Look at the preview and publish it when the "
        "questionnaire is ready.",
        "Dit kan niet (meer): het onderzoek is al gepubliceerd of gesloten.": "This is not "
        "possible (any more): the survey is already published or closed.",
        "Dit kan niet in de huidige status van de inzending.": "This is not possible in the "
        "submission's current status.",
        "Dit kan niet ongedaan worden gemaakt; wel kunt u daarna een inzending heropenen voor "
        "een correctie.": "This cannot be undone; you can still reopen a submission for a "
        "correction afterwards.",
        "Dit ligt vast sinds de publicatie.": "This is fixed since publication.",
        "Dit lukte niet": "This did not work",
        "Dit onderzoek is gepubliceerd. Elke wijziging van de vragenlijst wordt een nieuwe "
        "versie; bibliotheken die al begonnen zijn houden hun versie.": "This survey is "
        "published. Every change to the questionnaire becomes a new version; libraries that "
        "have started keep their version.",
        "Dit onderzoek is gesloten en kan niet meer veranderen.": "This survey is closed and "
        "can no longer change.",
        "Een kerncijfer moet een getalvraag zijn.": "A key figure must be a numeric question.",
        "Een keuzevraag heeft minstens één optie nodig.": "A choice question needs at least "
        "one option.",
        "Een minimum en maximum horen alleen bij getallen.": "A minimum and maximum belong to "
        "numbers only.",
        "Een onderdeel heeft minstens één vraag: de eerste vult u hier in.": "A section has at "
        "least one question: enter the first one here.",
        "Een verplicht onderzoek heeft een grondslag nodig.": "A mandatory survey needs a "
        "legal basis.",
        "Een verplicht onderzoek noemt zijn grondslag; bij een vrijwillig onderzoek blijft die "
        "leeg.": "A mandatory survey names its legal basis; a voluntary survey leaves it empty.",
        "Een voorwaarde moet verwijzen naar een eerdere vraag.": "A condition must refer to an "
        "earlier question.",
        "Een vrijwillig onderzoek heeft geen grondslag.": "A voluntary survey has no legal basis.",
        "Eenheid": "Unit",
        "Eerste vraag": "First question",
        "Elke optie heeft een eigen waarde nodig.": "Every option needs its own value.",
        "Er doen (nog) geen bibliotheken mee.": "No libraries take part (yet).",
        "Er doet nog geen bibliotheek mee; kies er minstens één.": "No library takes part yet; "
        "choose at least one.",
        "Er zijn nog geen gepubliceerde onderzoeken.": "There are no published surveys yet.",
        "Er zijn nog geen onderzoeken.": "There are no surveys yet.",
        "Eén keuze uit opties": "One choice from options",
        "Eén optie per regel: ‘waarde | tekst’, of alleen de tekst (de waarde wordt er dan uit "
        "gemaakt). Houd de waarde gelijk over de jaren.": "One option per line: ‘value | "
        "text’, or only the text (the value is then made from it). Keep the value the same "
        "over the years.",
        "Gebruik kleine letters, cijfers en _, en begin met een letter (hoogstens 64 tekens).": (
            "Use lower-case letters, digits and _, and start with a letter (at most 64 characters)."
        ),
        "Gebruik kleine letters, cijfers en streepjes.": "Use lower-case letters, digits and "
        "hyphens.",
        "Geen enkele bibliotheek kan daarna nog antwoorden opslaan of indienen.": "No library "
        "can save or submit answers afterwards.",
        "Gegevens": "Details",
        "Gegevens opslaan": "Save details",
        "Geheel getal": "Whole number",
        "Gekozen bibliotheken": "Chosen libraries",
        "Gepland": "Scheduled",
        "Geschiedenis": "History",
        "Gesloten": "Closed",
        "Getal met decimalen": "Number with decimals",
        "Grondslag": "Legal basis",
        "Grootteklassen": "Size classes",
        "Heropenen": "Reopen",
        "Het minimum is groter dan het maximum.": "The minimum is greater than the maximum.",
        "Het onderzoek is aangemaakt. Voeg nu onderdelen en vragen toe.": "The survey has been "
        "created. Now add sections and questions.",
        "Het onderzoek is gepubliceerd; de deelnemers krijgen een uitnodiging.": "The survey "
        "has been published; the participants receive an invitation.",
        "Het onderzoek is gesloten.": "The survey has been closed.",
        "Het onderzoek is gesloten. Heropen de inzending als de bibliotheek een correctie moet "
        "doen; daarna dient zij opnieuw in.": "The survey is closed. Reopen the submission if "
        "the library must make a correction; it then submits again.",
        "Het onderzoek moet sluiten nadat het opent.": "The survey must close after it opens.",
        "Het onderzoek opent op {opens} en sluit op {closes}.": "The survey opens on {opens} "
        "and closes on {closes}.",
        "Hoogstens zes getalvragen voor de infographic. Niets gekozen: de eerste zes "
        "getalvragen.": "At most six numeric questions for the infographic. None chosen: the "
        "first six numeric questions.",
        "Iemand anders heeft dit onderzoek intussen gewijzigd. Hieronder staat de nieuwe "
        "stand; voer uw wijziging opnieuw in.": "Someone else has changed this survey in the "
        "meantime. Below is the new state; enter your change again.",
        "Intern: alleen in de vergelijkingen": "Internal: in the benchmarks only",
        "Inzending": "Submission",
        "Inzending {n}, ingediend op {when}": "Submission {n}, submitted on {when}",
        "Ja, publiceren": "Yes, publish",
        "Ja, sluiten": "Yes, close",
        "Ja/nee": "Yes/no",
        "Kerncijfers": "Key figures",
        "Kerncijfers opslaan": "Save key figures",
        "Kies een datum tussen 2000 en 2100.": "Choose a date between 2000 and 2100.",
        "Kies een sluitingsmoment in de toekomst.": "Choose a closing time in the future.",
        "Kies een soort vraag.": "Choose a question type.",
        "Kies een van de mogelijkheden.": "Choose one of the possibilities.",
        "Kies elk kerncijfer één keer.": "Choose each key figure once.",
        "Kies hoogstens zes kerncijfers.": "Choose at most six key figures.",
        "Kies minstens één provincie of grootteklasse, of ‘alle bibliotheken’.": "Choose at "
        "least one province or size class, or ‘all libraries’.",
        "Kies wie er meedoen.": "Choose who takes part.",
        "Korte tekst": "Short text",
        "Lange tekst": "Long text",
        "Maximum": "Maximum",
        "Meer keuzes uit opties": "Several choices from options",
        "Minimum": "Minimum",
        "Na publicatie kunnen alleen de titel, de omschrijving en de sluitingsdatum nog "
        "veranderen.": "After publication only the title, the description and the closing "
        "date can still change.",
        "Naam van de subsidieregeling": "Name of the subsidy scheme",
        "Nee, terug": "No, go back",
        "Niet verplicht. Onderzoeken van één reeks (bijvoorbeeld wsob-jaarlijks) vergelijken "
        "hun antwoorden met vorig jaar.": "Optional. Surveys of one series (for example "
        "wsob-yearly) compare their answers with last year.",
        "Niet verplicht; staat onder de vraag.": "Optional; shown below the question.",
        "Nieuw onderdeel": "New section",
        "Nieuw onderzoek": "New survey",
        "Noem de subsidieregeling.": "Name the subsidy scheme.",
        "Nog geen ingediende antwoorden.": "No submitted answers yet.",
        "Nooit: blijft bij de antwoorden": "Never: stays with the answers",
        "Omhoog": "Up",
        "Omlaag": "Down",
        "Omschrijving": "Description",
        "Onderdeel": "Section",
        "Onderdeel bewerken": "Edit section",
        "Onderdeel omhoog": "Section up",
        "Onderdeel omlaag": "Section down",
        "Onderdeel opslaan": "Save section",
        "Onderdeel toevoegen": "Add section",
        "Onderdeel verwijderen": "Delete section",
        "Onderdelen van dit onderzoek": "Parts of this survey",
        "Onderzoek": "Survey",
        "Onderzoek aanmaken": "Create survey",
        "Onderzoek en vragenlijst": "Survey and questionnaire",
        "Onderzoek publiceren": "Publish survey",
        "Onderzoek sluiten": "Close survey",
        "Onderzoeken": "Surveys",
        "Ook vergelijken per 1.000 inwoners": "Also compare per 1,000 inhabitants",
        "Open": "Open",
        "Openbaar: in de open data": "Public: in the open data",
        "Opent": "Opens",
        "Opent op": "Opens on",
        "Opmerking": "Remark",
        "Opmerking voor de bibliotheek": "Remark for the library",
        "Opties": "Options",
        "Per 1.000 inwoners kan alleen bij getallen.": "Per 1,000 inhabitants applies to "
        "numbers only.",
        "Per gepubliceerd onderzoek de bibliotheken met een rapport. Zolang een onderzoek open "
        "is, zijn de cijfers voorlopig.": "Per published survey the libraries with a report. "
        "While a survey is open, the figures are provisional.",
        "Percentage": "Percentage",
        "Provincies": "Provinces",
        "Provincies en grootteklassen (bij ‘bepaalde provincies of grootteklassen’)": (
            "Provinces and size classes (for ‘certain provinces or size classes’)"
        ),
        "Publicatie": "Publication",
        "Publiceren…": "Publish…",
        "Rapporten per bibliotheek": "Reports per library",
        "Reden": "Reason",
        "Reeks": "Series",
        "Sleutel": "Key",
        "Sleutel (niet verplicht)": "Key (optional)",
        "Sleutel van de eerste vraag": "Key of the first question",
        "Sleutel van de eerste vraag (niet verplicht)": "Key of the first question (optional)",
        "Sleutel van het onderdeel": "Key of the section",
        "Sleutel van het onderdeel (niet verplicht)": "Key of the section (optional)",
        "Sluit": "Closes",
        "Sluit op": "Closes on",
        "Sluiten…": "Close…",
        "Soort vraag": "Question type",
        "Staat boven de vragenlijst en in de uitnodiging.": "Shown above the questionnaire "
        "and in the invitation.",
        "Standaard (getallen, keuzes en datums openbaar; vrije tekst nooit)": "Default "
        "(numbers, choices and dates public; free text never)",
        "Status per bibliotheek": "Status per library",
        "Subsidieregeling": "Subsidy scheme",
        "Terug naar het onderzoek": "Back to the survey",
        "Terugsturen": "Return",
        "Titel": "Title",
        "Titel van het onderdeel": "Title of the section",
        "Toelichting bij het onderdeel": "Introduction to the section",
        "Toelichting:": "Explanation:",
        "Toon deze vraag alleen als een eerdere vraag een bepaald antwoord heeft (bij ja/nee: "
        "‘ja’ of ‘nee’; bij keuzes: de waarde of tekst van de optie).": "Show this question "
        "only if an earlier question has a certain answer (for yes/no: ‘ja’ or ‘nee’; for "
        "choices: the option's value or text).",
        "U publiceert ‘{title}’.": "You are publishing ‘{title}’.",
        "U sluit ‘{title}’ nu, vóór de deadline van {closes}.": "You are closing ‘{title}’ "
        "now, before its deadline of {closes}.",
        "Uitleg bij de vraag": "Help text for the question",
        "Vastgelegd bij de publicatie: {n} bibliotheken.": "Fixed at publication: {n} libraries.",
        "Veld": "Field",
        "Verplicht of vrijwillig": "Mandatory or voluntary",
        "Verplicht om in te vullen": "Required",
        "Vervolgvragen tonen": "Show follow-up questions",
        "Voeg eerst een vragenlijst toe.": "Add a questionnaire first.",
        "Voorbeeld": "Preview",
        "Voorbeeld bekijken": "View preview",
        "Voortgang": "Progress",
        "Voorwaarde": "Condition",
        "Vraag bewerken": "Edit question",
        "Vraag opslaan": "Save question",
        "Vraag toevoegen": "Add question",
        "Vraag verwijderen": "Delete question",
        "Vul een datum en tijd in, bijvoorbeeld 2027-01-31 17:00.": "Enter a date and time, "
        "for example 2027-01-31 17:00.",
        "Vul een datum en tijd in.": "Enter a date and time.",
        "Vul het antwoord in waarbij deze vraag verschijnt.": "Enter the answer that makes "
        "this question appear.",
        "Waar de antwoorden buiten de Bibliotheekmonitor terechtkomen.": "Where the answers "
        "go outside the Library Monitor.",
        "Wat moet er worden gecorrigeerd? Over cijfers, niet over personen. De contactpersoon "
        "krijgt deze opmerking per e-mail.": "What must be corrected? About figures, not "
        "people. The contact person receives this remark by e-mail.",
        "Wie doen er mee?": "Who takes part?",
        "Wsob (Wet stelsel openbare bibliotheekvoorzieningen)": "Wsob (Public Library "
        "Services System Act)",
        "bereik": "range",
        "dit antwoord heeft": "has this answer",
        "geaccepteerd op {when}": "accepted on {when}",
        "groot": "large",
        "inzending {n}": "submission {n}",
        "kerncijfer": "key figure",
        "klein": "small",
        "middelgroot": "medium",
        "per 1.000 inwoners": "per 1,000 inhabitants",
        "sleutel": "key",
        "sluit op {when}": "closes on {when}",
        "teruggestuurd op {when}": "returned on {when}",
        "vorige keer:": "last time:",
        "vragenlijst versie {n}": "questionnaire version {n}",
        "zeer groot": "very large",
        "zo ziet een bibliotheek deze vragenlijst. Wat u hier invult wordt niet opgeslagen; "
        "met ‘Vervolgvragen tonen’ ziet u de vragen die bij uw antwoorden horen.": "this is "
        "how a library sees this questionnaire. Nothing you enter here is saved; ‘Show "
        "follow-up questions’ shows the questions that go with your answers.",
        "Op deze pagina": "On this page",
        "1 rapport": "1 report",
        "1 optie": "1 option",
        "Onderzoeken: bouwen, publiceren, voortgang en beoordelen": "Surveys: build, publish, "
        "progress and review",
        "{n} gekozen": "{n} chosen",
        "Naar beoordelen": "To the review",
        "{n} opties": "{n} options",
        "{n} rapporten": "{n} reports",
        "{n} van de {total} vragen zichtbaar.": "{n} of the {total} questions visible.",
    }
)
